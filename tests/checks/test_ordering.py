import numpy as np
import pytest
from literal_streams import record, stream_records
from streaming_data_types import serialise_ev44

from harness.checks import check_ordering
from harness.errors import CheckFailed


def ev44(source, message_id, seq, offset):
    payload = serialise_ev44(source, message_id, [1000 + message_id], [0], np.array([5, 6]), np.array([1, 2]))
    return record("ess-events", message_id, seq, payload, offset=offset)


def test_a_clean_stream_passes():
    result = check_ordering(stream_records("b-image", 20) + stream_records("e-mixed", 5, per_trigger=4, topic="u"))
    assert result.passed, result.report()
    assert result.metrics["streams"]["e-mixed"]["messages"] == 20


def test_a_dropped_message_names_the_stream_and_its_neighbours():
    records = stream_records("b-image", 10)
    del records[4]
    result = check_ordering(records)
    [finding] = result.findings
    assert finding.message == ("stream 'b-image': seq 4 missing (after seq 3 at topic t partition 0 offset 3, "
                               "before seq 5 at topic t partition 0 offset 5)")
    with pytest.raises(CheckFailed, match="seq 4 missing"):
        result.assert_passed()


def test_a_dropped_last_message_needs_the_expected_count():
    records = stream_records("a-scalar", 10)[:-1]
    assert check_ordering(records).passed
    result = check_ordering(records, expected_counts={"a-scalar": 10})
    assert "seq 9 missing" in result.findings[0].message


def test_a_reordered_pair_is_named():
    records = stream_records("c-spectrum", 6)
    a, b = records[2], records[3]
    records[2] = record("c-spectrum", b.donki.trigger, b.donki.seq, b.value, offset=2)
    records[3] = record("c-spectrum", a.donki.trigger, a.donki.seq, a.value, offset=3)
    messages = [f.message for f in check_ordering(records).findings]
    assert any("seq 2 at topic t partition 0 offset 3 comes after seq 3 at offset 2 (reordered)" in m for m in messages)
    assert any("trigger 3 at topic t partition 0 offset 3 comes after trigger 4" in m for m in messages)


def test_a_duplicate_is_named():
    records = stream_records("d", 3)
    records.append(record("d", 3, 2, offset=3))
    [finding] = check_ordering(records).findings
    assert "seq 2 duplicated at topic t partition 0 offset 3 (first at offset 2)" in finding.message


def test_partitions_are_checked_separately_but_gaps_across_all():
    records = [record("e", 1, 0, partition=0, offset=0), record("e", 2, 1, partition=1, offset=0),
               record("e", 3, 2, partition=0, offset=1), record("e", 4, 3, partition=1, offset=1)]
    assert check_ordering(records).passed


def test_ev44_message_ids_must_be_consecutive_per_source():
    records = [ev44("loki", 1, 0, 0), ev44("loki", 2, 1, 1), ev44("loki", 4, 2, 2)]
    result = check_ordering(records)
    assert result.metrics["ev44_messages"] == 3
    [finding] = result.findings
    assert "ev44 source 'loki': message_id 4 at topic t partition 0 offset 2 follows message_id 2" in finding.message
