"""NeXus views match the decoded raw messages, laid out as the ESS file writer does."""

from __future__ import annotations

import time

import numpy as np
from recording_helpers import T0_MS, ev44, f144

from harness.recording.decode import decode_payload
from harness.recording.reader.reader import open_recording
from harness.recording.writer.writer import RecordingWriter
from harness.records import KafkaRecord


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def record(topic, i, value):
    return KafkaRecord(topic, 0, i, T0_MS + i, 1, None, value, (), time.time())


def make(path):
    from streaming_data_types import serialise_ev44

    records = []
    for i in range(12):
        records.append(record("loki_detector", i, ev44("loki_detector_0", i, (T0_MS + 71 * i) * 10**6, i % 4)))
        records.append(record("loki_motion", i, f144("loki:motor:x", np.float32(i * 0.5), (T0_MS + i) * 10**6)))
        records.append(record("loki_motion", 100 + i, f144("loki:counts", np.arange(3, dtype=np.uint16) + i, i)))
    # a message with two pulses, a monitor without pixel ids, and foreign bytes on the same topic
    records.append(record("loki_detector", 50,
                          serialise_ev44("loki_detector_0", 50, [7, 9], [0, 2], [1, 2, 3], [4, 5, 6])))
    records.append(record("loki_monitor", 0, serialise_ev44("monitor_1", 0, [11], [0], [5, 6], [])))
    records.append(record("loki_detector", 51, b"not a flatbuffer"))
    with RecordingWriter(path) as writer:
        for r in records:
            writer.append(r)
        writer.close(units={"loki:motor:x": "mm"})
    return records


def decoded(records, schema, source):
    out = []
    for r in records:
        if r.schema == schema:
            data = decode_payload(r.value)
            if data.source_name == source:
                out.append(data)
    return out


def test_event_data_matches_the_decoded_ev44_messages(tmp_path):
    records = make(tmp_path / "r.h5")
    messages = decoded(records, "ev44", "loki_detector_0")
    with open_recording(tmp_path / "r.h5") as recording:
        group = recording.h5["entry/instrument/loki_detector_0/events"]
        assert text(group.attrs["NX_class"]) == "NXevent_data"
        assert text(group.parent.attrs["NX_class"]) == "NXdetector"
        assert text(recording.h5["entry"].attrs["NX_class"]) == "NXentry"
        assert text(recording.h5["entry/instrument"].attrs["NX_class"]) == "NXinstrument"
        with_events = [m for m in messages if len(m.time_of_flight)]
        np.testing.assert_array_equal(group["event_time_offset"][:],
                                      np.concatenate([m.time_of_flight for m in messages]))
        np.testing.assert_array_equal(group["event_id"][:], np.concatenate([m.pixel_id for m in messages]))
        np.testing.assert_array_equal(group["event_time_zero"][:],
                                      np.concatenate([m.reference_time for m in with_events]))
        starts, index = 0, []
        for m in with_events:
            index.extend(np.asarray(m.reference_time_index) + starts)
            starts += len(m.time_of_flight)
        np.testing.assert_array_equal(group["event_index"][:], index)
        assert group["event_time_zero"].dtype == np.uint64 and group["event_index"].dtype == np.int64
        assert group["event_id"].dtype == np.int32 and group["event_time_offset"].dtype == np.int32
        for name in ("event_time_zero", "event_time_offset"):
            assert text(group[name].attrs["units"]) == "ns"
        assert text(group["event_time_zero"].attrs["start"]) == "1970-01-01T00:00:00Z"
        assert int(group.attrs["events"]) == starts and text(group.attrs["topic"]) == "loki_detector"
        assert int(recording.h5["entry"].attrs["skipped_messages"]) == 0  # foreign bytes have no schema


def test_a_monitor_without_pixel_ids_gets_an_empty_event_id(tmp_path):
    make(tmp_path / "r.h5")
    with open_recording(tmp_path / "r.h5") as recording:
        group = recording.h5["entry/instrument/monitor_1/events"]
        np.testing.assert_array_equal(group["event_time_offset"][:], [5, 6])
        assert group["event_id"].shape == (0,)


def test_logs_match_the_decoded_f144_messages(tmp_path):
    records = make(tmp_path / "r.h5")
    with open_recording(tmp_path / "r.h5") as recording:
        scalar = recording.h5["entry/instrument/loki:motor:x"]
        assert text(scalar.attrs["NX_class"]) == "NXlog"
        messages = decoded(records, "f144", "loki:motor:x")
        np.testing.assert_array_equal(scalar["time"][:], [m.timestamp_unix_ns for m in messages])
        np.testing.assert_array_equal(scalar["value"][:], [m.value for m in messages])
        assert scalar["value"].dtype == np.float32 and scalar["time"].dtype == np.uint64
        assert text(scalar["time"].attrs["units"]) == "ns" and text(scalar["value"].attrs["units"]) == "mm"
        assert float(scalar["maximum_value"][()]) == max(m.value for m in messages)
        array = recording.h5["entry/instrument/loki:counts"]
        np.testing.assert_array_equal(array["value"][:], [m.value for m in decoded(records, "f144", "loki:counts")])
        assert array["value"].dtype == np.uint16 and "units" not in array["value"].attrs
