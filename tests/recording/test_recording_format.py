"""The recording file: written and read back exactly; bad files are clear errors, never empty."""

from __future__ import annotations

import shutil
import time

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from recording_helpers import mixed_records

from harness.errors import RecordingError
from harness.orchestra.journal import EventKind, Journal
from harness.recording import format as fmt
from harness.recording.headercodec import decode_headers, encode_headers
from harness.recording.reader.reader import open_recording
from harness.recording.writer.writer import RecordingWriter
from harness.records import KafkaRecord


def write(path, records, **close_kwargs):
    with RecordingWriter(path, metadata={"purpose": "test", "topics": ["a", "b"]}) as writer:
        for record in records:
            writer.append(record)
        if close_kwargs:
            writer.close(**close_kwargs)
    return path


def test_every_field_round_trips_exactly(tmp_path):
    records = mixed_records("loki_detector", 40, partitions=3) + mixed_records("loki_logs", 9)
    path = write(tmp_path / "r.h5", records)
    with open_recording(path) as recording:
        back = list(recording.records())
        assert recording.complete and not recording.writer_open
        assert recording.version == fmt.FORMAT_VERSION
        assert recording.metadata["purpose"] == "test" and recording.metadata["topics"] == ["a", "b"]
        assert recording.metadata["messages"] == len(records)
        assert recording.partitions() == [("loki_detector", 0), ("loki_detector", 1), ("loki_detector", 2),
                                          ("loki_logs", 0)]
    assert back == records  # value, key (None vs b""), headers (None values, duplicates), times, offsets


def test_journal_and_scenario_are_stored_beside_the_log(tmp_path):
    journal = Journal()
    journal.record(EventKind.RUN_STARTED)
    journal.record(EventKind.ACK, trigger=1, player="p1", latency_s=0.002, counts={"messages": 3})
    scenario = "name = 'a-scalar'\nrate_hz = 14.0\n"
    path = write(tmp_path / "r.h5", mixed_records("t", 3), journal=journal, scenario=scenario)
    with open_recording(path) as recording:
        assert recording.journal.to_rows() == journal.to_rows()
        assert recording.scenario.format == "toml"
        assert recording.scenario.data() == {"name": "a-scalar", "rate_hz": 14.0}


def test_a_recording_without_journal_or_scenario_says_so(tmp_path):
    path = write(tmp_path / "r.h5", mixed_records("t", 3))
    with open_recording(path) as recording:
        assert recording.journal is None
        assert recording.scenario is None


def test_payloads_across_chunk_boundaries_and_large_messages(tmp_path):
    rng = np.random.default_rng(1)
    sizes = [fmt.PAYLOAD_CHUNK - 3, 5, 3 * fmt.PAYLOAD_CHUNK + 17, 0, 1, fmt.PAYLOAD_CHUNK, 8 << 20]
    records = [KafkaRecord("big", 0, i, 1000 + i, 1, None, rng.bytes(n), (), time.time()) for i, n in enumerate(sizes)]
    path = tmp_path / "big.h5"
    with RecordingWriter(path, max_buffer_bytes=1 << 20) as writer:
        for record in records:
            writer.append(record)
        writer.flush()
    with open_recording(path) as recording:
        assert [r.value for r in recording.records()] == [r.value for r in records]
        assert [recording.payload(i) for i in range(len(records))] == [r.value for r in records]


def test_select_by_topic_partition_time_trigger_and_stream(tmp_path):
    records = mixed_records("a", 20, partitions=2, stream="ev") + mixed_records("b", 8, stream="other")
    path = write(tmp_path / "r.h5", records)
    with open_recording(path) as recording:
        assert len(recording.select(topics=["b"])) == 8
        assert {r.partition for r in recording.records(topics=["a"], partitions=[1])} == {1}
        t0 = records[0].timestamp_ms / 1000
        in_window = [r for r in recording.records(topics=["a"], start=t0 + 0.05, stop=t0 + 0.1)]
        assert [r.timestamp_ms for r in in_window] == [records[0].timestamp_ms + 10 * k for k in range(5, 10)]
        triggered = list(recording.records(topics=["a"], triggers=range(3, 7)))
        assert [r.donki.trigger for r in triggered] == [5, 6]  # triggers 3 and 4 are foreign messages
        assert {r.donki.stream for r in recording.records(streams=["other"])} == {"other"}
        by_partition = list(recording.partition_records("a", 0))
        assert [r.offset for r in by_partition] == sorted(r.offset for r in by_partition)
        with pytest.raises(RecordingError, match="has no topic 'c'"):
            recording.select(topics=["c"])


def test_an_existing_recording_is_never_overwritten_unless_asked(tmp_path):
    path = write(tmp_path / "r.h5", mixed_records("t", 3))
    before = path.read_bytes()
    with pytest.raises(RecordingError, match="already exists.*never overwritten"):
        RecordingWriter(path)
    assert path.read_bytes() == before
    write_again = RecordingWriter(path, overwrite=True)
    write_again.close()
    with open_recording(path) as recording:
        assert len(recording) == 0 and recording.complete


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=20), st.one_of(st.none(), st.binary(max_size=40))), max_size=8))
def test_header_encoding_round_trips(headers):
    assert decode_headers(encode_headers(headers)) == tuple(headers)


def test_damaged_header_bytes_are_an_error():
    blob = encode_headers([("donki.stream", b"abc")])
    with pytest.raises(RecordingError, match="damaged"):
        decode_headers(blob[:-1])


# -- bad files: a clear error naming the file, never an empty recording --------------------


def test_missing_file(tmp_path):
    with pytest.raises(RecordingError, match="does not exist"):
        open_recording(tmp_path / "nope.h5")


def test_not_an_hdf5_file(tmp_path):
    path = tmp_path / "text.h5"
    path.write_text("this is not HDF5\n")
    with pytest.raises(RecordingError, match=r"text\.h5 is not an HDF5 file"):
        open_recording(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.h5"
    path.write_bytes(b"")
    with pytest.raises(RecordingError, match="empty"):
        open_recording(path)


def test_hdf5_but_not_a_recording(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h5:
        h5["data"] = np.arange(3)
    with pytest.raises(RecordingError, match="not a pytest-donki recording"):
        open_recording(path)


def test_truncated_file(tmp_path):
    path = write(tmp_path / "r.h5", mixed_records("t", 200))
    data = path.read_bytes()
    for keep in (len(data) // 2, len(data) - 100, 2048):
        broken = tmp_path / f"cut{keep}.h5"
        broken.write_bytes(data[:keep])
        with pytest.raises(RecordingError, match=f"cut{keep}.h5.*damaged"), open_recording(broken) as recording:
            list(recording.records())


@pytest.mark.parametrize("version, message", [(fmt.FORMAT_VERSION + 1, "newer than the version 1"),
                                              (0, "unknown recording format version 0"),
                                              ("one", "not an integer")])
def test_unknown_or_newer_version_is_refused(tmp_path, version, message):
    path = write(tmp_path / "r.h5", mixed_records("t", 3))
    with h5py.File(path, "r+") as h5:
        h5.attrs[fmt.ATTR_VERSION] = version
    with pytest.raises(RecordingError, match=message):
        open_recording(path)


@pytest.mark.parametrize("name", [fmt.RAW, fmt.INDEX, fmt.PAYLOAD, fmt.TOPICS, fmt.META])
def test_missing_group_or_dataset(tmp_path, name):
    path = write(tmp_path / "r.h5", mixed_records("t", 3))
    with h5py.File(path, "r+") as h5:
        del h5[name]
    with pytest.raises(RecordingError, match=f"/{name} is missing"):
        open_recording(path)


def test_index_pointing_past_the_payloads(tmp_path):
    path = write(tmp_path / "r.h5", mixed_records("t", 8))
    with h5py.File(path, "r+") as h5:
        head = h5[fmt.PAYLOAD][:10]
        del h5[fmt.PAYLOAD]
        h5[fmt.PAYLOAD] = head
    with pytest.raises(RecordingError, match="damaged: .*points to byte"):
        open_recording(path)


def test_index_shorter_than_the_metadata_says(tmp_path):
    path = write(tmp_path / "r.h5", mixed_records("t", 8))
    with h5py.File(path, "r+") as h5:
        dtype = h5[fmt.INDEX].dtype
        del h5[fmt.INDEX]
        h5.create_dataset(fmt.INDEX, (0,), dtype=dtype)
    with pytest.raises(RecordingError, match="holds 0 messages but /meta says 8"):
        open_recording(path)


def test_corrupted_bytes_inside_the_file(tmp_path):
    path = write(tmp_path / "r.h5", mixed_records("t", 50))
    copy = tmp_path / "corrupt.h5"
    shutil.copy(path, copy)
    data = bytearray(copy.read_bytes())
    with h5py.File(path, "r") as h5:
        where = h5[fmt.INDEX].id.get_offset() or h5[fmt.INDEX].id.get_chunk_info(0).byte_offset
    data[where:where + 64] = b"\xff" * 64
    copy.write_bytes(bytes(data))
    # raw chunk data carries no checksum: the consistency check of the index must catch it
    with pytest.raises(RecordingError, match="corrupt.h5 is damaged"):
        open_recording(copy)


def test_decoded_gives_the_ess_content(tmp_path):
    path = write(tmp_path / "r.h5", mixed_records("t", 8))
    with open_recording(path) as recording:
        pairs = list(recording.decoded(triggers=[1, 2, 5]))
    assert [type(content).__name__ for _, content in pairs] == ["EventData", "LogData", "EventData"]
    assert pairs[1][1].source_name == "temp" and pairs[1][1].value == pytest.approx(1 / 3)
    with open_recording(path) as recording:  # foreign bytes without a schema decode to None
        assert [content for record, content in recording.decoded() if not record.schema] == [None] * 4


def test_recover_a_recording_whose_writer_died(tmp_path):
    from harness.recording.writer.copying import recover

    path = tmp_path / "dead.h5"
    writer = RecordingWriter(path)
    for record in mixed_records("t", 12):
        writer.append(record)
    writer.abandon()  # flushed and closed, never finished: as a killed recorder leaves it
    with open_recording(path) as dead:
        assert not dead.complete and len(dead) == 12 and dead.journal is None
    fixed = recover(path)
    assert fixed == tmp_path / "dead.recovered.h5"
    with open_recording(fixed) as recording:
        assert recording.complete and recording.metadata["recovered_from"] == str(path)
        with open_recording(path) as dead:
            assert list(recording.records()) == list(dead.records())
        assert "entry" in recording.h5
    with pytest.raises(RecordingError, match="is complete"):
        recover(fixed)
