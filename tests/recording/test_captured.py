"""Captured scenarios: a recording drives a Director run like a generated stream."""

from __future__ import annotations

import time

import numpy as np
import pytest
from recording_helpers import T0_MS, ev44

from harness.errors import ScenarioError
from harness.headers import crc32_hex, make_headers
from harness.recording.decode import decode_payload
from harness.recording.reader.reader import open_recording
from harness.recording.replay.captured import CapturedOptions, plan_slices
from harness.recording.writer.recorder import Recorder
from harness.recording.writer.writer import RecordingWriter
from harness.records import KafkaRecord
from harness.scenarios import loads_scenario


def capture(path, triggers=3, per_trigger=2):
    """A harness run's capture: ``per_trigger`` ev44 messages per recorded trigger, with a foreign header."""
    records = []
    for trigger in range(1, triggers + 1):
        for k in range(per_trigger):
            seq = (trigger - 1) * per_trigger + k
            ts = T0_MS + 100 * (trigger - 1) + 10 * k
            value = ev44("loki", seq, ts * 1_000_000, 3 + seq)
            headers = make_headers("recorded", trigger, seq, value, [("origin", b"beamline")])
            records.append(KafkaRecord("loki_detector", 0, seq, ts, 1, b"det-%d" % k, value, tuple(headers),
                                       50.0 + seq))
    with RecordingWriter(path) as writer:
        for record in records:
            writer.append(record)
    return records


def test_slices_by_trigger_time_and_count(tmp_path):
    capture(tmp_path / "c.h5", triggers=3, per_trigger=2)
    with open_recording(tmp_path / "c.h5") as recording:
        rows = recording.select()
        by_trigger, starts = plan_slices(recording.index, rows, CapturedOptions("c.h5"), rate_hz=10.0)
        assert [list(s) for s in by_trigger] == [[0, 1], [2, 3], [4, 5]]
        assert starts == [(T0_MS + 100 * k) * 1_000_000 for k in range(3)]
        by_time, starts = plan_slices(recording.index, rows, CapturedOptions("c.h5", split="time"), rate_hz=50.0)
        assert [list(s) for s in by_time] == [[0, 1], [], [], [], [], [2, 3], [], [], [], [], [4, 5]]
        assert starts[5] - starts[0] == 100_000_000
        by_count, _ = plan_slices(recording.index, rows, CapturedOptions("c.h5", split="count", messages_per_trigger=4),
                                  rate_hz=10.0)
        assert [list(s) for s in by_count] == [[0, 1, 2, 3], [4, 5]]


def test_split_by_trigger_needs_trigger_headers(tmp_path):
    with RecordingWriter(tmp_path / "f.h5") as writer:
        writer.append(KafkaRecord("t", 0, 0, T0_MS, 1, None, b"foreign"))
    with open_recording(tmp_path / "f.h5") as recording:
        with pytest.raises(ScenarioError, match="split='trigger' but some selected messages have no donki.trigger"):
            plan_slices(recording.index, recording.select(), CapturedOptions("f.h5", split="trigger"), 10.0)
        slices, _ = plan_slices(recording.index, recording.select(), CapturedOptions("f.h5"), 10.0)  # auto: time
        assert [list(s) for s in slices] == [[0]]


def test_bad_captured_params_name_the_key(tmp_path):
    def scenario(params):
        return loads_scenario(f"""
[scenario]
name = "cap"
rate = 10.0
triggers = 2
[[players]]
name = "cap"
stream = "captured"
topic = "loki_detector"
[players.params]
{params}
""", "cap.toml")

    with pytest.raises(ScenarioError, match="missing required key 'recording'"):
        scenario("")
    with pytest.raises(ScenarioError, match=r"params.split: 'sideways' is not allowed"):
        scenario('recording = "x.h5"\nsplit = "sideways"')
    assert scenario('recording = "x.h5"').players[0].params["loop"] is True


def test_a_captured_stream_drives_a_director_run(donki_kafka, donki_topics, tmp_path):
    from harness.runs import RunRequest, SizedScenario, run

    recorded = capture(tmp_path / "capture.h5", triggers=3, per_trigger=2)
    scenario = loads_scenario(f"""
[scenario]
name = "captured-loki"
rate = 10.0
triggers = 5
[[players]]
name = "loki-replay"
stream = "captured"
topic = "loki_detector"
[players.params]
recording = "{tmp_path / 'capture.h5'}"
""", "captured-loki.toml")
    before_ms = time.time() * 1000
    result = run(RunRequest(SizedScenario.as_given(scenario), donki_kafka, namespace=donki_topics, mode="process",
                            log_dir=tmp_path / "logs")).summary
    assert result.complete, result.all_problems()
    topic = result.topics["loki_detector"]
    Recorder(tmp_path / "out.h5", [topic], donki_kafka.client_config, until_end=True).run()
    with open_recording(tmp_path / "out.h5") as out:
        got = list(out.records())
    # triggers 1-3 replay the recorded triggers, 4-5 loop over the first two again
    source = [recorded[i] for i in (0, 1, 2, 3, 4, 5, 0, 1, 2, 3)]
    assert len(got) == 10
    assert [(r.donki.stream, r.donki.trigger, r.donki.seq) for r in got] == [
        ("loki-replay", 1 + i // 2, i) for i in range(10)]
    for message, original in zip(got, source, strict=True):
        assert message.key == original.key and ("origin", b"beamline") in message.headers
        assert message.donki.crc32 == crc32_hex(message.value)
        new, old = decode_payload(message.value), decode_payload(original.value)
        assert np.array_equal(new.pixel_id, old.pixel_id) and np.array_equal(new.time_of_flight, old.time_of_flight)
        assert len(message.value) == len(original.value)
        shift = int(new.reference_time[0]) - int(old.reference_time[0])
        assert abs(shift / 1e6 - (message.timestamp_ms - original.timestamp_ms)) <= 1  # one shift for both clocks
        assert message.timestamp_ms >= before_ms - 1000  # the data look live
    journal = result.journal
    assert journal is not None and len(journal) > 0
