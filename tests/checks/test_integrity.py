import pytest
from literal_streams import record

from harness.checks import check_integrity
from harness.errors import CheckFailed


def produced(jb, player="b", stream="b-image", triggers=3, per_trigger=2):
    jb.join(player, streams=[stream])
    records, seq = [], 0
    for n in range(1, triggers + 1):
        batch = [record(stream, n, seq + i, f"{stream}:{seq + i}".encode(), offset=seq + i) for i in range(per_trigger)]
        seq += per_trigger
        records += batch
        jb.send(n, player).ack(n, player, messages=len(batch), nbytes=sum(len(r.value) for r in batch))
    return records


def test_everything_saved_once_with_the_same_bytes_passes(jb):
    records = produced(jb)
    result = check_integrity(jb.journal, records)
    assert result.passed, result.report()
    assert result.metrics["reported_messages"] == result.metrics["saved_messages"] == 6


def test_a_corrupted_byte_names_the_message(jb):
    records = produced(jb)
    bad = records[3]
    flipped = bytes([bad.value[0] ^ 0x01]) + bad.value[1:]
    records[3] = record("b-image", bad.donki.trigger, bad.donki.seq, flipped, offset=bad.offset, crc_of=bad.value)
    result = check_integrity(jb.journal, records)
    [finding] = result.findings
    assert finding.message.startswith("stream 'b-image' seq 3 (trigger 2) at topic t partition 0 offset 3: payload of")
    assert "the saved bytes differ from the produced ones" in finding.message
    with pytest.raises(CheckFailed, match="integrity: 1 problem"):
        result.assert_passed()


def test_a_lost_message_shows_as_a_report_mismatch(jb):
    records = produced(jb)
    del records[2]
    [finding] = check_integrity(jb.journal, records).findings
    assert finding.message == ("player 'b' trigger 2: reported 2 message(s) / 18 bytes on 'b-image', "
                               "the recording has 1 / 9")


def test_a_message_saved_twice_is_named(jb):
    records = produced(jb)
    records.append(record("b-image", 3, 5, records[5].value, offset=6))
    messages = [f.message for f in check_integrity(jb.journal, records).findings]
    assert ("stream 'b-image' seq 5 saved twice: at topic t partition 0 offset 5 and at topic t partition 0 offset 6"
            in messages)


def test_delivery_failures_reported_by_a_player_are_findings(jb):
    jb.join("a", streams=["a-scalar"]).send(1, "a").ack(1, "a", messages=0, nbytes=0, failed=2)
    assert "Kafka reported 2 message(s) not delivered" in check_integrity(jb.journal, []).findings[0].message


def test_digests_give_the_same_findings_as_whole_records(jb):
    from harness.checks import check_ordering
    from harness.checks.digest import digests

    records = produced(jb)
    bad = records[3]
    records[3] = record("b-image", bad.donki.trigger, bad.donki.seq, b"X" + bad.value[1:], offset=bad.offset,
                        crc_of=bad.value)
    del records[1]
    slim = list(digests(records))
    assert [f.message for f in check_integrity(jb.journal, slim).findings] == \
        [f.message for f in check_integrity(jb.journal, records).findings]
    assert [f.message for f in check_ordering(slim).findings] == [f.message for f in check_ordering(records).findings]
    assert len(check_integrity(jb.journal, slim).findings) == 2
