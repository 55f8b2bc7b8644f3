"""The recorder against a real broker: any bytes, start positions, stop conditions, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
from recording_helpers import T0_MS, mixed_records, produce_records, same_message

from harness.errors import BrokerUnreachableError, RecordingError, TopicError
from harness.recording.reader.reader import open_recording
from harness.recording.writer.recorder import Recorder


def by_partition(records):
    return sorted(records, key=lambda r: (r.topic, r.partition, r.offset))


def test_records_any_bytes_from_several_topics_until_the_end(donki_kafka, donki_topics, tmp_path):
    events = donki_topics.create("loki_detector", partitions=3)
    logs = donki_topics.create("loki_logs")
    sent = mixed_records(events, 60, partitions=3) + mixed_records(logs, 11)
    produce_records(donki_kafka.client_config, sent)
    stats = Recorder(tmp_path / "r.h5", [events, logs], donki_kafka.client_config, until_end=True).run()
    assert (stats.messages, stats.stop_reason, stats.lag) == (71, "end of topics", 0)
    with open_recording(tmp_path / "r.h5") as recording:
        got = list(recording.records())
        assert recording.metadata["start_position"] == "earliest"
        assert recording.metadata["bootstrap"] == donki_kafka.bootstrap_servers
    assert len(got) == len(sent)
    assert all(same_message(a, b) and (a.topic, a.offset) == (b.topic, b.offset)
               for a, b in zip(by_partition(sent), by_partition(got), strict=True))


def test_latest_records_only_what_is_produced_after_open(donki_kafka, donki_topics, tmp_path):
    topic = donki_topics.create("loki_detector", partitions=2)
    produce_records(donki_kafka.client_config, mixed_records(topic, 10, partitions=2))
    recorder = Recorder(tmp_path / "r.h5", [topic], donki_kafka.client_config, start="latest").start()
    later = mixed_records(topic, 6, partitions=2, stream="later")
    produce_records(donki_kafka.client_config, later)
    assert recorder.wait_for(6, timeout_s=20)
    stats = recorder.stop()
    assert stats.messages == 6
    with open_recording(tmp_path / "r.h5") as recording:
        assert sorted(r.offset for r in recording.records()) == [5, 5, 6, 6, 7, 7]
        assert [r.value for r in by_partition(recording.records())] == [r.value for r in by_partition(later)]


def test_start_at_a_timestamp(donki_kafka, donki_topics, tmp_path):
    topic = donki_topics.create("loki_detector")
    sent = mixed_records(topic, 20)  # timestamps T0 + 10 ms * i
    produce_records(donki_kafka.client_config, sent)
    start = (T0_MS + 125) / 1000.0  # first message at or after: i = 13
    stats = Recorder(tmp_path / "r.h5", [topic], donki_kafka.client_config, start=start, until_end=True).run()
    assert stats.messages == 7
    with open_recording(tmp_path / "r.h5") as recording:
        assert [r.offset for r in recording.records()] == list(range(13, 20))


def test_stops_after_a_count(donki_kafka, donki_topics, tmp_path):
    topic = donki_topics.create("loki_detector")
    produce_records(donki_kafka.client_config, mixed_records(topic, 30))
    stats = Recorder(tmp_path / "r.h5", [topic], donki_kafka.client_config, max_messages=12).run()
    assert (stats.messages, stats.stop_reason) == (12, "message count")
    with open_recording(tmp_path / "r.h5") as recording:
        assert [r.offset for r in recording.records()] == list(range(12))


def test_stops_at_a_deadline_and_reports_lag_and_throughput(donki_kafka, donki_topics, tmp_path):
    topic = donki_topics.create("loki_detector")
    produce_records(donki_kafka.client_config, mixed_records(topic, 5))
    seen = []
    t0 = time.monotonic()
    stats = Recorder(tmp_path / "r.h5", [topic], donki_kafka.client_config, duration_s=1.0,
                     progress=seen.append, report_interval_s=0.2, on_record=lambda r: None).run()
    assert 1.0 <= time.monotonic() - t0 < 10
    assert (stats.messages, stats.stop_reason, stats.lag) == (5, "duration", 0)
    assert stats.msg_per_s > 0 and stats.bytes == sum(len(r.value) for r in mixed_records(topic, 5))
    assert seen and seen[-1].lag_by_partition == {f"{topic}[0]": 0}


def test_on_record_gets_every_message(donki_kafka, donki_topics, tmp_path):
    topic = donki_topics.create("loki_detector")
    sent = produce_records(donki_kafka.client_config, mixed_records(topic, 9))
    got = []
    Recorder(tmp_path / "r.h5", [topic], donki_kafka.client_config, until_end=True, on_record=got.append).run()
    assert [r.offset for r in got] == list(range(sent))


def test_a_topic_that_does_not_exist(donki_kafka, donki_topics, tmp_path):
    topic = donki_topics.create("loki_detector")
    with pytest.raises(TopicError, match=r"topic 'no_such_topic' does not exist"):
        Recorder(tmp_path / "r.h5", [topic, "no_such_topic"], donki_kafka.client_config).open()
    assert not (tmp_path / "r.h5").exists()


def test_an_unreachable_broker(tmp_path):
    from harness.kafka.ports import free_ports

    address = f"127.0.0.1:{free_ports(1)[0]}"
    with pytest.raises(BrokerUnreachableError, match=f"no Kafka broker answered at '{address}'"):
        Recorder(tmp_path / "r.h5", ["t"], {"bootstrap.servers": address}, connect_timeout_s=2).open()


def test_never_overwrites_an_existing_recording(donki_kafka, donki_topics, tmp_path):
    topic = donki_topics.create("loki_detector")
    (tmp_path / "r.h5").write_bytes(b"precious")
    with pytest.raises(RecordingError, match="already exists"):
        Recorder(tmp_path / "r.h5", [topic], donki_kafka.client_config).open()
    assert (tmp_path / "r.h5").read_bytes() == b"precious"


def inspect_in_another_process(path):
    """``donki inspect --json`` in a child process: HDF5 shares a file opened twice in one process."""
    done = subprocess.run([sys.executable, "-m", "harness", "inspect", "--json", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_live_recording_can_be_read_while_it_is_written(donki_kafka, donki_topics, tmp_path):
    topic = donki_topics.create("loki_detector")
    recorder = Recorder(tmp_path / "r.h5", [topic], donki_kafka.client_config, start="latest",
                        flush_interval_s=0.1).start()
    try:
        produce_records(donki_kafka.client_config, mixed_records(topic, 8))
        assert recorder.wait_for(8, timeout_s=20)
        deadline = time.monotonic() + 30
        while True:  # visible to a reader after the next flush
            live = inspect_in_another_process(tmp_path / "r.h5")
            if live["messages"] == 8:
                assert live["writer_open"] and not live["complete"] and "being written" in live["state"]
                break
            assert time.monotonic() < deadline, f"the live file never showed the 8 messages: {live}"
            time.sleep(0.1)
    finally:
        recorder.stop()
    with open_recording(tmp_path / "r.h5") as done:
        assert done.complete and len(done) == 8 and done.metadata["stop_reason"] == "stopped"


def test_errors_in_the_recorder_thread_reach_the_caller(donki_kafka, donki_topics, tmp_path):
    topic = donki_topics.create("loki_detector")
    produce_records(donki_kafka.client_config, mixed_records(topic, 3))

    def explode(record):
        raise ValueError(f"checker rejected offset {record.offset}")

    recorder = Recorder(tmp_path / "r.h5", [topic], donki_kafka.client_config, on_record=explode).start()
    deadline = time.monotonic() + 20
    while recorder._thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(ValueError, match="checker rejected offset 0"):
        recorder.stop()
    with open_recording(tmp_path / "r.h5") as recording:  # what was recorded is kept, and closed properly
        assert recording.complete and recording.metadata["stop_reason"].startswith("error: ValueError")
        assert [r.offset for r in recording.records()][:1] == [0]
    assert threading.active_count() < 50


def test_large_and_null_payloads_round_trip(donki_kafka, donki_topics, tmp_path):
    import numpy as np

    from harness.records import KafkaRecord

    topic = donki_topics.create("loki_detector")
    rng = np.random.default_rng(7)
    sizes = [5 << 20, 1, 3 << 20, 0, 9 << 20, 100]
    sent = [KafkaRecord(topic, 0, i, T0_MS + i, 1, None, rng.bytes(n), ()) for i, n in enumerate(sizes)]
    produce_records(donki_kafka.client_config, sent)
    from harness.kafka import make_producer

    producer = make_producer(donki_kafka.client_config)
    producer.produce(topic, None, b"tombstone", timestamp=T0_MS + 99)  # a null value
    assert producer.flush(30) == 0
    stats = Recorder(tmp_path / "big.h5", [topic], donki_kafka.client_config, until_end=True).run()
    assert stats.messages == 7 and stats.bytes == sum(sizes)
    with open_recording(tmp_path / "big.h5") as recording:
        got = list(recording.records())
    assert [r.value for r in got[:6]] == [r.value for r in sent]
    assert (got[6].key, got[6].value) == (b"tombstone", b"")  # a null value is stored as empty


def test_offsets_with_gaps_are_recorded_as_the_broker_gave_them(donki_kafka, donki_topics, tmp_path):
    """Transaction commit markers take offsets no consumer sees: one batch then has gaps."""
    from confluent_kafka import Producer

    topic = donki_topics.create("loki_detector")
    producer = Producer({**donki_kafka.client_config, "transactional.id": f"{topic}-tx"})
    producer.init_transactions(30)
    for txn in range(3):
        producer.begin_transaction()
        for i in range(4):
            producer.produce(topic, f"txn {txn} message {i}".encode())
        producer.commit_transaction(30)
    stats = Recorder(tmp_path / "r.h5", [topic], donki_kafka.client_config, until_end=True).run()
    assert stats.messages == 12
    with open_recording(tmp_path / "r.h5") as recording:
        got = list(recording.records())
    # each commit marker takes one offset after its transaction's four messages
    assert [r.offset for r in got] == [0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13]
    assert [r.value for r in got] == [f"txn {t} message {i}".encode() for t in range(3) for i in range(4)]


def test_older_objects_are_frozen_for_the_collector_only_while_recording(donki_kafka, donki_topics, tmp_path):
    import gc

    topic = donki_topics.create("loki_detector")
    produce_records(donki_kafka.client_config, mixed_records(topic, 5))
    frozen_while_recording = []
    recorder = Recorder(tmp_path / "r.h5", [topic], donki_kafka.client_config, until_end=True,
                        on_record=lambda _record: frozen_while_recording.append(gc.get_freeze_count()))
    assert gc.get_freeze_count() == 0
    assert recorder.run().messages == 5
    assert len(frozen_while_recording) == 5 and min(frozen_while_recording) > 0
    assert gc.get_freeze_count() == 0  # a cycle among the older objects is collected again
