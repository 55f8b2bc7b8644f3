"""A recorder killed with SIGKILL mid-stream leaves a readable file with everything it flushed."""

from __future__ import annotations

import sys

import numpy as np
from recording_helpers import T0_MS, kill_while_streaming, produce_records, records_left_by_kill, wait_for_messages

from harness.procs import spawn
from harness.recording.reader.reader import open_recording
from harness.records import KafkaRecord


def payload(i: int) -> bytes:
    size = 200_000 if i % 10 == 0 else 1_000 + i  # some messages span several payload chunks
    return np.random.default_rng(i).bytes(size)


def messages(topic, first, count):
    return [KafkaRecord(topic, 0, i, T0_MS + i, 1, str(i).encode(), payload(i), (("i", str(i).encode()),))
            for i in range(first, first + count)]


def test_sigkill_mid_stream_leaves_every_flushed_message(donki_kafka, donki_topics, tmp_path):
    topic = donki_topics.create("loki_detector")
    path = tmp_path / "killed.h5"
    child = spawn("recorder", [sys.executable, "-m", "harness", "record", "--bootstrap",
                               donki_kafka.bootstrap_servers, "--topic", topic, "-o", str(path),
                               "--flush-interval", "0.2", "--quiet"], tmp_path / "recorder.log")
    try:
        produce_records(donki_kafka.client_config, messages(topic, 0, 60))
        flushed = wait_for_messages(path, 60, timeout_s=30)  # these 60 are flushed: a reader saw them
        # keep the recorder busy writing while it is killed
        kill_while_streaming(child, path, donki_kafka.client_config, lambda at: messages(topic, at, 20), first=60,
                             step=20, until=flushed + 40)
    finally:
        child.stop()
    got = records_left_by_kill(path)
    assert len(got) >= flushed + 40
    # a prefix of the stream, byte for byte, with nothing torn at the end
    assert [r.offset for r in got] == list(range(len(got)))
    for record in got:
        assert record.value == payload(record.offset)
        assert record.key == str(record.offset).encode() and record.headers == (("i", record.key),)


def test_inspect_reads_a_killed_recording(donki_kafka, donki_topics, tmp_path):
    from harness.cli.main import main

    topic = donki_topics.create("loki_detector")
    path = tmp_path / "killed.h5"
    child = spawn("recorder", [sys.executable, "-m", "harness", "record", "-b", donki_kafka.bootstrap_servers,
                               "-t", topic, "-o", str(path), "--flush-interval", "0.1", "--quiet"],
                  tmp_path / "recorder.log")
    try:
        produce_records(donki_kafka.client_config, messages(topic, 0, 5))
        wait_for_messages(path, 5, timeout_s=30)
        child.kill()
    finally:
        child.stop()
    assert main(["inspect", str(path)]) == 0


def test_sigterm_stops_donki_record_cleanly(donki_kafka, donki_topics, tmp_path):
    topic = donki_topics.create("loki_detector")
    path = tmp_path / "stopped.h5"
    child = spawn("recorder", [sys.executable, "-m", "harness", "record", "-b", donki_kafka.bootstrap_servers,
                               "-t", topic, "-o", str(path), "--quiet"], tmp_path / "recorder.log")
    try:
        produce_records(donki_kafka.client_config, messages(topic, 0, 7))
        wait_for_messages(path, 7, timeout_s=30)
        assert child.stop(grace_s=30) == 0, child.log_tail()  # SIGTERM, then wait for a clean exit
    finally:
        child.stop()
    with open_recording(path) as recording:
        assert recording.complete and recording.metadata["stop_reason"] == "stopped"
        assert [r.value for r in recording.records()] == [payload(i) for i in range(7)]
        assert "entry" in recording.h5  # closed properly: views written
