"""Data-save integrity with the double in the loop: the file holds exactly what was on Kafka in the run."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from fwhelpers import MS, Client
from streaming_data_types import deserialise_6s4t, deserialise_pl72
from streaming_data_types.fbschemas.action_response_answ.ActionOutcome import ActionOutcome

from harness.checks.filewriter import RunStart, check_file_writer
from harness.recording.reader.reader import open_recording
from harness.recording.replay.replayer import Replayer
from harness.records import KafkaRecord
from harness.scenarios.goldens import packaged_goldens_dir

GOLDEN = packaged_goldens_dir() / "ess-pulse.h5"


def _detector_structure(topic: str, source: str) -> str:
    nx = lambda cls: [{"name": "NX_class", "dtype": "string", "values": cls}]  # noqa: E731 - a one-line table
    return json.dumps({"children": [{"type": "group", "name": "entry", "attributes": nx("NXentry"), "children": [
        {"type": "group", "name": "detector", "attributes": nx("NXdetector"), "children": [
            {"type": "group", "name": "events", "attributes": nx("NXevent_data"), "children": [
                {"module": "ev44", "config": {"source": source, "topic": topic}}]}]}]}]})


@pytest.fixture(scope="module")
def golden():
    with open_recording(GOLDEN) as recording:
        records = list(recording.records())
    start = next(deserialise_pl72(r.value) for r in records if r.schema == "pl72")
    stop = next(deserialise_6s4t(r.value) for r in records if r.schema == "6s4t")
    return records, start.start_time * MS, stop.stop_time * MS


def test_the_double_writes_the_ess_pulse_golden_pulse_for_pulse(golden, donki_kafka, donki_topics,
                                                                donki_file_writer, tmp_path):
    records, start_ns, stop_ns = golden
    targets = {topic: donki_topics(topic) for topic in sorted({r.topic for r in records})}
    report = Replayer(GOLDEN, donki_kafka.client_config, topic_map=targets, speed=None).run()
    assert report.failed == 0 and report.messages == len(records)
    pool, control = donki_topics("pool"), donki_topics("writer_control")
    donki_file_writer(pool, tmp_path, stop_leeway_s=0.5)
    client = Client(donki_kafka, pool, control)
    try:
        detector = targets["donki_detector"]
        structure = _detector_structure(detector, "donki_detector")
        # the golden's own run, from its recorded start and stop: data months old are found by timestamp
        client.start("golden-job", "ess-pulse.nxs", start_ns, structure, stop_ns=stop_ns)
        assert client.answer("golden-job")[2].outcome == ActionOutcome.Success
        assert not client.finished("golden-job", timeout_s=60)[2].error_encountered
    finally:
        client.close()
    moved = [KafkaRecord(targets[r.topic], r.partition, r.offset, r.timestamp_ms, r.timestamp_type, r.key, r.value,
                         r.headers) for r in records]
    result = check_file_writer(moved, tmp_path / "ess-pulse.nxs",
                               run=RunStart("golden-job", start_ns, stop_ns, structure))
    assert result.passed, result.report()
    pulses = sum(1 for r in records if r.schema == "ev44")
    assert result.checked == pulses > 0  # every recorded pulse lies in the run, each one compared


def test_the_check_fails_on_a_changed_event_and_on_a_pulse_outside_the_run(golden, tmp_path):
    records, start_ns, stop_ns = golden
    structure = _detector_structure("donki_detector", "donki_detector")
    run = RunStart("j", start_ns, stop_ns, structure)
    events = [r for r in records if r.schema == "ev44"]
    from streaming_data_types import deserialise_ev44

    pulses = [deserialise_ev44(r.value) for r in events]
    with h5py.File(tmp_path / "bad.nxs", "w") as f:
        group = f.create_group("entry/detector/events")
        ids = np.concatenate([p.pixel_id for p in pulses])
        ids[3] += 1  # one event on the wrong pixel
        counts = [len(p.pixel_id) for p in pulses]
        group["event_time_zero"] = np.array([p.reference_time[0] for p in pulses] + [stop_ns + 2 * MS], dtype="u8")
        group["event_index"] = np.cumsum([0] + counts)
        group["event_id"] = np.concatenate([ids, [7]])
        group["event_time_offset"] = np.concatenate([np.concatenate([p.time_of_flight for p in pulses]), [1]])
    result = check_file_writer(records, tmp_path / "bad.nxs", run=run)
    messages = [f.message for f in result.findings]
    first = int(pulses[0].reference_time[0])
    assert any(f"entry at {first} ns" in m and "not in the file" in m for m in messages), messages
    assert any(f"entry at {first} ns" in m and "not on Kafka inside the run" in m for m in messages), messages
    assert any(f"entry at {stop_ns + 2 * MS} ns" in m for m in messages), messages
    assert len(result.findings) == 3
