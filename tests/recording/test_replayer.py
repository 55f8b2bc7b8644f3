"""The replayer against a real broker: same bytes, same order, timing, remapping, loops, live times."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from recording_helpers import T0_MS, mixed_records, same_message

from harness.errors import BrokerUnreachableError, RecordingError, TopicError
from harness.headers import crc32_hex
from harness.recording.decode import decode_payload
from harness.recording.reader.reader import open_recording
from harness.recording.replay.replayer import Replayer
from harness.recording.writer.recorder import Recorder
from harness.recording.writer.writer import RecordingWriter
from harness.records import KafkaRecord


def write(path, records):
    with RecordingWriter(path) as writer:
        for record in records:
            writer.append(record)
    return path


def record_until(client_config, path, topics, count, action):
    """Record ``topics`` from now on while ``action()`` runs, until ``count`` messages arrived."""
    recorder = Recorder(path, topics, client_config, start="latest").start()
    try:
        result = action()
        assert recorder.wait_for(count, timeout_s=30), f"only {recorder.stats.messages} of {count} arrived"
    finally:
        recorder.stop()
    return result


def test_replay_keeps_bytes_keys_headers_partitions_and_timestamps(donki_kafka, donki_topics, tmp_path):
    source = mixed_records("loki_detector", 48, partitions=3) + mixed_records("loki_logs", 10)
    write(tmp_path / "golden.h5", source)
    events = donki_topics.create("loki_detector", partitions=3)
    logs = donki_topics.create("loki_logs")
    mapping = {"loki_detector": events, "loki_logs": logs}
    report = record_until(donki_kafka.client_config, tmp_path / "again.h5", [events, logs], len(source),
                          lambda: Replayer(tmp_path / "golden.h5", donki_kafka.client_config, topic_map=mapping,
                                           speed=None).run())
    assert (report.messages, report.delivered, report.failed) == (58, 58, 0)
    assert report.topics == mapping
    with open_recording(tmp_path / "again.h5") as again:
        got = list(again.records())
    for topic in ("loki_detector", "loki_logs"):
        for partition in range(3):
            want = [r for r in source if r.topic == topic and r.partition == partition]
            have = sorted((r for r in got if r.topic == mapping[topic] and r.partition == partition),
                          key=lambda r: r.offset)
            assert len(have) == len(want) and all(same_message(a, b) for a, b in zip(want, have, strict=True))


def test_recorded_timing_is_kept(donki_kafka, donki_topics, tmp_path):
    intervals_ms = [0, 50, 10, 120, 30, 30, 200, 5, 60]
    stamps = T0_MS + np.cumsum(intervals_ms)
    write(tmp_path / "r.h5", [KafkaRecord("t", 0, i, int(ts), 1, None, b"m%d" % i) for i, ts in enumerate(stamps)])
    topic = donki_topics.create("t")
    t0 = time.monotonic()
    report = Replayer(tmp_path / "r.h5", donki_kafka.client_config, topic_map={"t": topic}).run()
    elapsed = time.monotonic() - t0
    assert 0.505 <= elapsed < 3.0  # 505 ms of recorded time
    assert report.timing.messages == 9
    assert report.timing.late_max < 0.25 and report.timing.interval_p50 < 0.005  # generous: a shared, loaded machine


def test_speed_factor_and_as_fast_as_possible(donki_kafka, donki_topics, tmp_path):
    write(tmp_path / "r.h5", [KafkaRecord("t", 0, i, T0_MS + 100 * i, 1, None, b"x") for i in range(11)])
    topic = donki_topics.create("t")
    t0 = time.monotonic()
    report = Replayer(tmp_path / "r.h5", donki_kafka.client_config, topic_map={"t": topic}, speed=4.0).run()
    assert 0.25 <= time.monotonic() - t0 < 2.0  # 1 s recorded, 4x
    assert report.timing is not None and report.speed == 4.0
    write(tmp_path / "slow.h5", [KafkaRecord("t", 0, i, T0_MS + 1000 * i, 1, None, b"x") for i in range(11)])
    t0 = time.monotonic()
    fast = Replayer(tmp_path / "slow.h5", donki_kafka.client_config, topic_map={"t": topic}, speed=None).run()
    assert time.monotonic() - t0 < 5.0 and fast.timing is None and fast.delivered == 11  # 10 s recorded


def test_received_clock_and_long_gaps(donki_kafka, donki_topics, tmp_path):
    received = [100.0, 100.1, 1000.0, 1000.1]  # a 15-minute pause in the middle
    write(tmp_path / "r.h5", [KafkaRecord("t", 0, i, 0, 0, None, b"x", (), r) for i, r in enumerate(received)])
    topic = donki_topics.create("t")
    t0 = time.monotonic()
    report = Replayer(tmp_path / "r.h5", donki_kafka.client_config, topic_map={"t": topic}, clock="received",
                      max_gap_s=0.2).run()
    assert 0.4 <= time.monotonic() - t0 < 2.5 and report.clamped_gaps == 1


def test_loops_and_live_timestamps(donki_kafka, donki_topics, tmp_path):
    from recording_helpers import ev44

    from harness.headers import make_headers

    payloads = [ev44("det", i, (T0_MS + 10 * i) * 10**6, 4) for i in range(5)]
    write(tmp_path / "r.h5", [KafkaRecord("t", 0, i, T0_MS + 10 * i, 1, None, p, tuple(make_headers("ev", i + 1, i, p)))
                              for i, p in enumerate(payloads)])
    topic = donki_topics.create("t")
    before_ms = time.time() * 1000
    report = record_until(donki_kafka.client_config, tmp_path / "out.h5", [topic], 15,
                          lambda: Replayer(tmp_path / "r.h5", donki_kafka.client_config, topic_map={"t": topic},
                                           speed=None, loops=3, shift_timestamps=True).run())
    assert (report.loops, report.messages) == (3, 15)
    with open_recording(tmp_path / "out.h5") as out:
        got = list(out.records())
    stamps = [r.timestamp_ms for r in got]
    assert stamps == sorted(stamps) and len(set(stamps)) == 15  # loops continue, never repeat a time
    assert stamps[0] >= before_ms - 1000
    pulses = [int(decode_payload(r.value).reference_time[0]) for r in got]
    assert all(b - a == 10_000_000 for a, b in itertools.pairwise(pulses))  # spacing kept across loops
    assert abs(pulses[0] / 1e6 - stamps[0]) < 1000
    for r in got:  # payload changed, so the integrity header follows it; events untouched
        assert r.donki.crc32 == crc32_hex(r.value)
        assert np.array_equal(decode_payload(r.value).pixel_id, decode_payload(payloads[r.donki.seq]).pixel_id)


def test_endless_loop_stops_on_request(donki_kafka, donki_topics, tmp_path):
    write(tmp_path / "r.h5", [KafkaRecord("t", 0, i, T0_MS + 20 * i, 1, None, b"x") for i in range(3)])
    topic = donki_topics.create("t")
    replayer = Replayer(tmp_path / "r.h5", donki_kafka.client_config, topic_map={"t": topic}, loops=0).start()
    time.sleep(0.5)
    report = replayer.stop(timeout_s=10)
    assert report.loops >= 3 and report.delivered == report.messages


def test_a_missing_target_topic_is_named(donki_kafka, tmp_path):
    write(tmp_path / "r.h5", mixed_records("loki_detector", 3))
    with pytest.raises(TopicError, match="replay target topic 'elsewhere' .*does not exist"):
        Replayer(tmp_path / "r.h5", donki_kafka.client_config, topic_map={"loki_detector": "elsewhere"}).run()


def test_too_few_partitions_on_the_target(donki_kafka, donki_topics, tmp_path):
    write(tmp_path / "r.h5", mixed_records("loki_detector", 6, partitions=3))
    topic = donki_topics.create("loki_detector", partitions=2)
    with pytest.raises(TopicError, match="has 2 partition.*needs partition 2"):
        Replayer(tmp_path / "r.h5", donki_kafka.client_config, topic_map={"loki_detector": topic}).run()


def test_an_unreachable_broker(tmp_path):
    from harness.kafka.ports import free_ports

    write(tmp_path / "r.h5", mixed_records("t", 2))
    with pytest.raises(BrokerUnreachableError, match="no Kafka broker answered"):
        Replayer(tmp_path / "r.h5", {"bootstrap.servers": f"127.0.0.1:{free_ports(1)[0]}"}).run()


@pytest.mark.parametrize("kwargs, message", [({"clock": "sundial"}, "unknown replay clock"),
                                             ({"speed": -1}, "negative"), ({"loops": -2}, "loops=-2")])
def test_bad_replay_options(tmp_path, kwargs, message):
    write(tmp_path / "r.h5", mixed_records("t", 2))
    with pytest.raises(RecordingError, match=message):
        Replayer(tmp_path / "r.h5", {"bootstrap.servers": "127.0.0.1:9"}, **kwargs)


def test_live_replay_keeps_kafka_timestamp_equal_to_the_data_time(donki_kafka, donki_topics, tmp_path):
    from recording_helpers import ev44

    from harness.checks.timing import data_time_findings
    from harness.headers import make_headers

    times = [(T0_MS + 10 * i) * 10**6 + 456_789 + 77_000 * i for i in range(6)]  # ns, off the ms grid
    payloads = [ev44("det", i, t, 3) for i, t in enumerate(times)]
    write(tmp_path / "r.h5", [KafkaRecord("t", 0, i, t // 10**6, 1, None, p, tuple(make_headers("ev", i + 1, i, p)))
                              for i, (t, p) in enumerate(zip(times, payloads, strict=True))])
    topic = donki_topics.create("t")
    record_until(donki_kafka.client_config, tmp_path / "out.h5", [topic], 12,
                 lambda: Replayer(tmp_path / "r.h5", donki_kafka.client_config, topic_map={"t": topic},
                                  speed=None, loops=2, shift_timestamps=True).run())
    with open_recording(tmp_path / "out.h5") as out:
        got = list(out.records())
    assert len(got) == 12
    for r in got:  # one whole-millisecond shift moves both clocks alike
        assert r.timestamp_ms == int(decode_payload(r.value).reference_time[0]) // 10**6
    findings, timed = data_time_findings(got)
    assert not findings and timed == 12, [f.message for f in findings]
    shifted = [int(decode_payload(r.value).reference_time[0]) for r in got]
    assert [t % 10**6 for t in shifted[:6]] == [t % 10**6 for t in times]  # sub-ms part untouched


def test_a_paced_replay_times_every_message_at_delivery(donki_kafka, donki_topics, tmp_path):
    write(tmp_path / "r.h5", [KafkaRecord("t", 0, i, T0_MS + 20 * i, 1, None, b"x") for i in range(25)])
    topic = donki_topics.create("t")
    report = Replayer(tmp_path / "r.h5", donki_kafka.client_config, topic_map={"t": topic}).run()
    assert report.delivered == 25 and report.delivery is not None and report.delivery.messages == 25
    # an acknowledgement comes after its send: delivery is later than the send, and not by seconds
    assert report.delivery.late_p50 >= report.timing.late_p50 and report.delivery.late_max >= 0
    assert report.delivery.late_p50 < 0.25  # generous: a shared, loaded machine
    assert "at delivery: interval error p50" in report.line()
    fast = Replayer(tmp_path / "r.h5", donki_kafka.client_config, topic_map={"t": topic}, speed=None).run()
    assert fast.delivered == 25 and fast.delivery is None  # as fast as possible: nothing to time
