"""Benchmark of the recorder and the replayer against raw confluent-kafka peers.

Prints, in one run against one broker (a local KRaft broker unless --bootstrap):

1. the recorder (``donki record``) as a whole process, start to file closed, without and
   with views, against a bare consumer process (confluent-kafka, the recorder's librdkafka
   settings, a consume(batch) loop that only counts bytes) and against kcat (if installed:
   ``make kcat``), 1 kB and 8 MB messages: rates, CPU seconds and per-round ratios,
   medians with min-max, the rotated order of each round and the load average (targets:
   1 kB >= 0.7 of the bare consumer and >= 0.6 of kcat, 8 MB >= 0.9 of the bare consumer);
   ``--only recorder-loop`` gives the in-process figure (recording loop vs consumer loop);
1b. the recorder in process: MB/s and msg/s as a ratio to a raw confluent-kafka consumer that only
   counts bytes, for 8 MB and 1 kB random payloads and 8 MB ev44 (1e6 events), the
   recorder as ``donki record`` runs it by default: views on (targets: >= 0.8 and >= 0.5);
1c. the NeXus views' cost: the recorder with views over ``--no-views`` on ~1 GB of ev44
   (target <= 1.2 in every run), kcat writing the same payloads to a file as the peer,
   and the close latency at ess-pulse rates (14 Hz x 1e6 events): how long after the
   producer's last message the recording file is closed, views on and off (target < 1 s
   in every run);
2. replay timing error, p50/p99 of |actual - recorded| inter-message interval, at
   1 kHz and 14 Hz (target p99 < 1 ms), next to a naive ``time.sleep(interval)`` pacer;
3. replay throughput as fast as possible vs a raw producer sending the same bytes.

Every figure is the median of ``--runs`` runs, A/B order alternated, with the spread
(min-max) and the load average where the part prints them. ``--quick`` is the CI size.

    python benchmarks/recording.py [--quick] [--runs N] [--bootstrap HOST:PORT]
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.kafka import TopicAdmin, TopicSpec, consumer_config, make_producer
from harness.recording.replay.pacing import TimingError
from harness.recording.replay.replayer import Replayer
from harness.recording.writer.recorder import CONSUMER_SETTINGS, Recorder
from harness.recording.writer.writer import RecordingWriter
from harness.records import KafkaRecord

MB = 1 << 20


@dataclass(frozen=True)
class Sizes:
    big_count: int  # 8 MB messages
    small_count: int  # 1 kB messages
    khz_messages: int  # replay timing at 1 kHz
    hz14_messages: int  # replay timing at 14 Hz
    ev44_count: int  # 1e6-event ev44 messages (8 MB) for the views' cost
    pulse_s: float  # seconds of an ess-pulse stream for the close latency


FULL = Sizes(big_count=48, small_count=300_000, khz_messages=5000, hz14_messages=140, ev44_count=128, pulse_s=10.0)
QUICK = Sizes(big_count=12, small_count=50_000, khz_messages=1500, hz14_messages=42, ev44_count=16, pulse_s=2.0)
EVENTS_PER_PULSE = 1_000_000
PULSE_HZ = 14.0
VIEWS_TARGET = 1.2
CLOSE_TARGET_S = 1.0


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def ev44_pulses(count: int = 4) -> list[bytes]:
    """``count`` distinct ess-pulse ev44 payloads: 1e6 events each (8 MB), 71 ms apart."""
    from streaming_data_types import serialise_ev44

    rng = np.random.default_rng(2)
    return [serialise_ev44("bench_detector", i, [1_700_000_000_000_000_000 + i * 71_428_571], [0],
                           rng.integers(0, 71_000_000, EVENTS_PER_PULSE, dtype=np.int32),
                           rng.integers(1, 1 << 20, EVENTS_PER_PULSE, dtype=np.int32)) for i in range(count)]


def fill_topic(client: dict, topic: str, size: int, count: int, payloads: list[bytes] | None = None) -> None:
    producer = make_producer(client)
    payloads = payloads or [np.random.default_rng(0).bytes(size)]
    for i in range(count):
        while True:
            try:
                producer.produce(topic, payloads[i % len(payloads)], timestamp=1_700_000_000_000 + i)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    if producer.flush(300) != 0:
        raise RuntimeError(f"filling {topic} did not finish")


def raw_consume(client: dict, topic: str, count: int) -> tuple[float, int]:
    """A bare confluent-kafka consumer: read ``count`` messages, count bytes. (seconds, bytes)

    It gets the recorder's consumer settings, so the ratio measures the recorder's work,
    not librdkafka tuning.
    """
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(consumer_config(client, **CONSUMER_SETTINGS))
    consumer.assign([TopicPartition(topic, 0, 0)])
    seen = total = 0
    t0 = time.perf_counter()
    deadline = time.monotonic() + 600
    while seen < count and time.monotonic() < deadline:
        for message in consumer.consume(num_messages=1000, timeout=0.1):
            if message.error() is None:
                total += len(message.value())
                seen += 1
    elapsed = time.perf_counter() - t0
    consumer.close()
    return elapsed, total


def record(client: dict, topic: str, count: int, workdir: Path, views: bool = True) -> tuple[float, int]:
    """The recorder as ``donki record --until-end`` runs it (views on unless ``views`` is false)."""
    elapsed, size, _ = record_with_cpu(client, topic, count, workdir, views)
    return elapsed, size


def record_with_cpu(client: dict, topic: str, count: int, workdir: Path, views: bool) -> tuple[float, int, float]:
    """:func:`record`, also returning the CPU seconds of this process while the recorder ran."""
    path = workdir / f"bench-{uuid.uuid4().hex[:6]}.h5"
    recorder = Recorder(path, [topic], client, until_end=True, views=views)
    recorder.open()
    cpu0, t0 = cpu_s(), time.perf_counter()
    stats = recorder.run()
    elapsed, cpu = time.perf_counter() - t0, cpu_s() - cpu0  # includes the final flush and close
    path.unlink()
    assert stats.messages == count, stats
    return elapsed, stats.bytes, cpu


def median_pair(runs: int, first: Callable[[], tuple[float, int]], second: Callable[[], tuple[float, int]]):
    """Alternate the two (so drift on a shared machine hits both), median seconds of each."""
    a, b = [], []
    for run in range(runs):
        for target, fn in ((a, first), (b, second)) if run % 2 == 0 else ((b, second), (a, first)):
            target.append(fn())
    return statistics.median(t for t, _ in a), a[0][1], statistics.median(t for t, _ in b), b[0][1]


def bench_recorder(client: dict, admin: TopicAdmin, sizes: Sizes, runs: int, workdir: Path) -> list[str]:
    lines = []
    pulses = ev44_pulses()
    for label, size, count, payloads in (("8 MB", 8 * MB, sizes.big_count, None),
                                         ("1 kB", 1024, sizes.small_count, None),
                                         ("ev44", len(pulses[0]), sizes.big_count, pulses)):
        topic = f"bench_rec_{label.replace(' ', '')}_{uuid.uuid4().hex[:6]}"
        admin.create([TopicSpec(topic, 1)])
        log(f"filling {topic}: {count} x {label}")
        fill_topic(client, topic, size, count, payloads)
        raw_t, raw_b, rec_t, rec_b = median_pair(runs, functools.partial(raw_consume, client, topic, count),
                                                 functools.partial(record, client, topic, count, workdir))
        admin.delete([topic])
        raw_mb, rec_mb = raw_b / MB / raw_t, rec_b / MB / rec_t
        target = 0.8 if size > MB else 0.5
        lines.append(f"recorder loop {label:>5}: {rec_mb:8.1f} MB/s {count / rec_t:9.0f} msg/s | raw consumer "
                     f"{raw_mb:8.1f} MB/s {count / raw_t:9.0f} msg/s | ratio {rec_mb / raw_mb:.2f} "
                     f"(target >= {target})")
        log(lines[-1])
    return lines


def spread(values: list[float], unit: str = "s", digits: int = 2) -> str:
    """Median with min-max, as the benchmark pages print them."""
    unit = f" {unit}" if unit else ""
    return f"{statistics.median(values):.{digits}f}{unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    """CPU seconds (user + system) of this process's threads (or of its waited-for children)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def kcat_consume(bootstrap: str, topic: str, count: int, workdir: Path) -> float:
    """kcat writing ``count`` payloads of ``topic`` to a file: the peer of a recorder without HDF5 layout."""
    out = workdir / "kcat.bin"
    t0 = time.perf_counter()
    with out.open("wb") as sink:
        subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-c", str(count),
                        "-e", "-q", "-f", "%s"], stdout=sink, check=True, timeout=600)
    elapsed = time.perf_counter() - t0
    out.unlink()
    return elapsed


def bench_views_cost(client: dict, admin: TopicAdmin, sizes: Sizes, runs: int, workdir: Path) -> list[str]:
    """Recorder with views / --no-views on ~1 GB of ev44, A/B alternated, kcat beside them."""
    topic = f"bench_views_{uuid.uuid4().hex[:6]}"
    admin.create([TopicSpec(topic, 1)])
    pulses = ev44_pulses()
    count = sizes.ev44_count
    log(f"filling {topic}: {count} x ev44 1e6 events ({count * len(pulses[0]) / 1e9:.2f} GB)")
    fill_topic(client, topic, len(pulses[0]), count, pulses)
    kcat = shutil.which("kcat")
    views, plain, peer, ratios, orders = [], [], [], [], []
    cpu: dict[str, list[float]] = {"views": [], "no-views": [], "kcat": []}
    for run in range(runs):
        order = ("views", "no-views") if run % 2 == 0 else ("no-views", "views")
        orders.append("/".join(order))
        took = {}
        for name in order:
            took[name], _, used = record_with_cpu(client, topic, count, workdir, views=name == "views")
            cpu[name].append(used)
        views.append(took["views"])
        plain.append(took["no-views"])
        ratios.append(took["views"] / took["no-views"])
        if kcat:
            cpu0 = cpu_s(resource.RUSAGE_CHILDREN)
            peer.append(kcat_consume(client["bootstrap.servers"], topic, count, workdir))
            cpu["kcat"].append(cpu_s(resource.RUSAGE_CHILDREN) - cpu0)
    admin.delete([topic])
    load = os.getloadavg()
    gb = count * len(pulses[0]) / 1e9
    verdict = "met in every run" if max(ratios) <= VIEWS_TARGET else (
        "met in the median, not in every run" if statistics.median(ratios) <= VIEWS_TARGET else "not met")
    kcat_text = (f"kcat to a file {spread(peer)}, CPU {spread(cpu['kcat'])}" if peer
                 else "kcat not installed (apt-get install -y kcat)")
    cpu_ratios = [a / b for a, b in zip(cpu["views"], cpu["no-views"], strict=True)]
    lines = [f"views cost, {count} x ev44 1e6 events ({gb:.2f} GB), {runs} runs, orders {', '.join(orders)}: "
             f"views {spread(views)}, CPU {spread(cpu['views'])} | --no-views {spread(plain)}, CPU "
             f"{spread(cpu['no-views'])} | {kcat_text} | ratio views/no-views {spread(ratios, '')} (target <= "
             f"{VIEWS_TARGET}: {verdict}), CPU ratio {spread(cpu_ratios, '')} | load {load[0]:.1f} {load[1]:.1f}"]
    log(lines[-1])
    return lines


def pulse_stream_close(client: dict, admin: TopicAdmin, sizes: Sizes, workdir: Path, views: bool,
                       pulses: list[bytes]) -> tuple[float, float]:
    """ess-pulse (14 Hz x 1e6 events) into a running recorder; seconds from the producer's last
    message to all of them recorded, and to the file closed."""
    topic = f"bench_pulse_{uuid.uuid4().hex[:6]}"
    admin.create([TopicSpec(topic, 1)])
    count = int(sizes.pulse_s * PULSE_HZ)
    path = workdir / f"pulse-{uuid.uuid4().hex[:6]}.h5"
    recorder = Recorder(path, [topic], client, start="earliest", views=views).start()
    producer = make_producer(client, **{"linger.ms": 0})
    t0 = time.monotonic()
    for i in range(count):
        time.sleep(max(0.0, t0 + i / PULSE_HZ - time.monotonic()))
        producer.produce(topic, pulses[i % len(pulses)], timestamp=int(time.time() * 1000))
        producer.poll(0)
    if producer.flush(120) != 0:
        raise RuntimeError(f"producing {topic} did not finish")
    ended = time.perf_counter()
    recorder.wait_for(count, 120)
    recorded = time.perf_counter()
    stats = recorder.stop()
    closed = time.perf_counter()
    admin.delete([topic])
    path.unlink()
    assert stats.messages == count, stats
    return recorded - ended, closed - ended


def bench_close_latency(client: dict, admin: TopicAdmin, sizes: Sizes, runs: int, workdir: Path) -> list[str]:
    pulses = ev44_pulses()
    found: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    orders = []
    for run in range(runs):
        order = (True, False) if run % 2 == 0 else (False, True)
        orders.append("/".join("views" if v else "no-views" for v in order))
        for views in order:
            found[views].append(pulse_stream_close(client, admin, sizes, workdir, views, pulses))
    load = os.getloadavg()
    lines = []
    for views in (True, False):
        closes = [c for _, c in found[views]]
        verdict = "met in every run" if max(closes) < CLOSE_TARGET_S else "not met in every run"
        lines.append(f"close latency {'views' if views else 'no-views':>8}, ess-pulse {sizes.pulse_s:g} s at "
                     f"{PULSE_HZ:g} Hz x 1e6 events, {runs} runs, orders {', '.join(orders)}: all recorded "
                     f"{spread([r for r, _ in found[views]])} and file closed {spread(closes)} after the last "
                     f"message (target < {CLOSE_TARGET_S:g} s: {verdict}); the close itself (stop() after all "
                     f"were recorded) {spread([c - r for r, c in found[views]])} | load {load[0]:.1f} {load[1]:.1f}")
        log(lines[-1])
    return lines


def timed_recording(path: Path, topic: str, rate_hz: float, count: int, size: int) -> None:
    payload = bytes(size)
    period_ns = int(round(1e9 / rate_hz))
    with RecordingWriter(path) as writer:
        for i in range(count):
            ns = 1_700_000_000_000_000_000 + i * period_ns
            writer.append(KafkaRecord(topic, 0, i, ns // 1_000_000, 1, None, payload, (), ns / 1e9))


def naive_sleep_pacing(client: dict, topic: str, rate_hz: float, count: int, size: int) -> TimingError:
    """The usual replay loop: sleep one recorded interval between sends."""
    producer = make_producer(client, **{"linger.ms": 0})
    payload, interval = bytes(size), 1.0 / rate_hz
    sent = []
    t0 = time.monotonic()
    for _ in range(count):
        sent.append(time.monotonic() - t0)
        producer.produce(topic, payload)
        producer.poll(0)
        time.sleep(interval)
    producer.flush(60)
    return TimingError.measure([i * interval for i in range(count)], sent)


def pacer_alone(rate_hz: float, count: int) -> TimingError:
    """The machine's floor: the same pacer with nothing to send (scheduler noise only)."""
    from harness.recording.replay.pacing import Pacer

    pacer = Pacer()
    offsets = [i / rate_hz for i in range(count)]
    actual = [pacer.wait(offset) - pacer.t0 for offset in offsets]
    return TimingError.measure(offsets, actual)


def bench_timing(client: dict, admin: TopicAdmin, sizes: Sizes, runs: int, workdir: Path) -> list[str]:
    lines = []
    for rate, count in ((1000.0, sizes.khz_messages), (14.0, sizes.hz14_messages)):
        topic = f"bench_timing_{int(rate)}_{uuid.uuid4().hex[:6]}"
        admin.create([TopicSpec(topic, 1)])
        path = workdir / f"timing-{int(rate)}.h5"
        timed_recording(path, topic, rate, count, 1024)
        ours, naive, floor, delivered = [], [], [], []
        for _ in range(runs):  # interleaved, so the three see the same load on a shared machine
            report = Replayer(path, client, clock="received").run()
            ours.append(report.timing)
            delivered.append(report.delivery)
            naive.append(naive_sleep_pacing(client, topic, rate, count, 1024))
            floor.append(pacer_alone(rate, count))
        admin.delete([topic])
        path.unlink()
        p50 = statistics.median(t.interval_p50 for t in ours) * 1e3
        p99 = statistics.median(t.interval_p99 for t in ours) * 1e3
        n99 = statistics.median(t.interval_p99 for t in naive) * 1e3
        late = statistics.median(t.late_p99 for t in ours) * 1e3
        n_late = statistics.median(t.late_max for t in naive) * 1e3
        f99 = statistics.median(t.interval_p99 for t in floor) * 1e3
        d99 = statistics.median(t.interval_p99 for t in delivered) * 1e3  # see benchmarks/replay_timing.py
        lines.append(f"replay timing {rate:6.0f} Hz ({count} msgs): at the send: interval error p50 {p50:.3f} ms, "
                     f"p99 {p99:.3f} ms, lateness p99 {late:.3f} ms; at delivery: interval error p99 {d99:.3f} ms "
                     f"(target < 1 ms) | naive sleep pacing: p99 {n99:.3f} ms, "
                     f"drift at end {n_late:.1f} ms | pacer without Kafka (machine floor): p99 {f99:.3f} ms")
        log(lines[-1])
    return lines


def raw_produce(client: dict, topic: str, payload: bytes, count: int) -> tuple[float, int]:
    producer = make_producer(client)
    t0 = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                producer.produce(topic, payload, partition=0)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(600)
    return time.perf_counter() - t0, len(payload) * count


def replay_fast(client: dict, path: Path, topic: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    report = Replayer(path, client, topic_map={"src": topic}, speed=None).run()
    elapsed = time.perf_counter() - t0
    assert report.failed == 0, report.first_failure
    return elapsed, report.bytes


def bench_throughput(client: dict, admin: TopicAdmin, sizes: Sizes, runs: int, workdir: Path) -> list[str]:
    lines = []
    for label, size, count in (("8 MB", 8 * MB, sizes.big_count), ("1 kB", 1024, sizes.small_count)):
        topic = f"bench_replay_{size}_{uuid.uuid4().hex[:6]}"
        admin.create([TopicSpec(topic, 1)])
        payload = np.random.default_rng(1).bytes(size)
        path = workdir / f"replay-{size}.h5"
        with RecordingWriter(path) as writer:
            for i in range(count):
                writer.append(KafkaRecord("src", 0, i, 1_700_000_000_000 + i, 1, None, payload, (), 0.0))
        raw_t, raw_b, rep_t, rep_b = median_pair(runs, functools.partial(raw_produce, client, topic, payload, count),
                                                 functools.partial(replay_fast, client, path, topic))
        admin.delete([topic])
        path.unlink()
        raw_mb, rep_mb = raw_b / MB / raw_t, rep_b / MB / rep_t
        lines.append(f"replay fast {label:>5}: {rep_mb:8.1f} MB/s {count / rep_t:9.0f} msg/s | raw producer "
                     f"{raw_mb:8.1f} MB/s {count / raw_t:9.0f} msg/s | ratio {rep_mb / raw_mb:.2f}")
        log(lines[-1])
    return lines


# -- the recorder as a whole process vs a bare consumer process vs kcat ---------------------
#
# Each contestant is a fresh process, timed from its start to its exit: the recorder's start-up,
# imports, file creation, close (and views) count, as they do for a user of `donki record`.

#: The bare peer: a confluent-kafka consumer process with the recorder's librdkafka settings,
#: a consume(batch) loop that only counts bytes, exiting once ``count`` messages were read.
BARE_CONSUMER = """
import json, sys
from confluent_kafka import Consumer, TopicPartition
bootstrap, topic, count, settings = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-bare", "enable.auto.commit": False,
                     **settings})
consumer.assign([TopicPartition(topic, 0, 0)])
seen = total = 0
while seen < count:
    for message in consumer.consume(num_messages=1000, timeout=0.1):
        if message.error() is None:
            total += len(message.value())
            seen += 1
consumer.close()
print(total)
"""
#: (label, size, count) of the whole-process cases
PROCESS_CASES_FULL = (("1 kB", 1024, 300_000), ("8 MB", 8 * MB, 48))
PROCESS_CASES_QUICK = (("1 kB", 1024, 50_000), ("8 MB", 8 * MB, 12))
#: Targets as a fraction of each peer's rate (1 kB: bare, kcat; 8 MB: bare).
PROCESS_TARGETS = {"1 kB": {"bare consumer": 0.7, "kcat": 0.6}, "8 MB": {"bare consumer": 0.9}}


@dataclass(frozen=True)
class ProcessRun:
    """One timed process: wall seconds from start to exit, CPU seconds (user + system, all threads)."""

    wall_s: float
    cpu_s: float


@dataclass(frozen=True)
class Contestant:
    """A command line that reads ``count`` messages of a topic, and the check of its output."""

    name: str
    argv: list[str]
    check: Callable[[str], None]


def timed_process(argv: list[str], env: dict[str, str], check: Callable[[str], None]) -> ProcessRun:
    """Run ``argv`` to its end; ``check`` gets its stdout and raises if the run did not do its job."""
    import os
    import subprocess

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:4])} ... failed ({proc.returncode}): {err.read().decode()[-2000:]}")
        check(out.read().decode())
    return ProcessRun(wall, usage.ru_utime + usage.ru_stime)


def process_env(workdir: Path) -> dict[str, str]:
    """The environment of the timed processes: byte code cached (in ``workdir``), as an installed donki has it."""
    import os

    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    return env


def bare_settings() -> dict[str, object]:
    """The recorder's librdkafka settings (without its logger object and group id), for the bare consumer."""
    return {k: v for k, v in consumer_config({}, **CONSUMER_SETTINGS).items() if k not in ("logger", "group.id")}


def contestants(bootstrap: str, topic: str, size: int, count: int, workdir: Path) -> list[Contestant]:
    """The recorder (without and with views), the bare consumer and kcat (if installed) on ``topic``."""
    import json
    import shutil

    def expect_bytes(out: str) -> None:
        if int(out.split()[-1]) != size * count:
            raise RuntimeError(f"the bare consumer read {out.split()[-1]} bytes, expected {size * count}")

    def expect_recorded(out: str) -> None:
        stats = json.loads(out)
        if stats["messages"] != count:
            raise RuntimeError(f"the recorder wrote {stats['messages']} messages, expected {count}")

    def recorder(views: bool) -> list[str]:
        path = workdir / f"rec-{'views' if views else 'raw'}.h5"
        return [sys.executable, "-m", "harness", "record", "--bootstrap", bootstrap, "-t", topic, "-o", str(path),
                "--force", "--until-end", "--quiet", "--json", *([] if views else ["--no-views"])]

    found = [Contestant("recorder --no-views", recorder(False), expect_recorded),
             Contestant("recorder with views", recorder(True), expect_recorded),
             Contestant("bare consumer", [sys.executable, "-c", BARE_CONSUMER, bootstrap, topic, str(count),
                                          json.dumps(bare_settings())], expect_bytes)]
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    if kcat is not None:
        found.append(Contestant("kcat", [kcat, "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-c",
                                         str(count), "-e", "-q", "-f", "%S\\n"], lambda out: None))
    return found


def rounds_of(players: list[Contestant], runs: int, env: dict[str, str]) -> tuple[dict[str, list[ProcessRun]],
                                                                                  list[str]]:
    """``runs`` rounds, each running every contestant once, the order rotated round by round."""
    from _rounds import rotated

    return rotated(runs, {p.name: (lambda _run, p=p: timed_process(p.argv, env, p.check)) for p in players},
                   sep=" > ")


def span(values: list[float], fmt_: str = ".2f") -> str:
    """``median (min-max)``, without a unit."""
    return f"{statistics.median(values):{fmt_}} ({min(values):{fmt_}}-{max(values):{fmt_}})"


def process_lines(label: str, size: int, count: int, results: dict[str, list[ProcessRun]], orders: list[str],
                  loads: tuple[list[float], list[float]]) -> list[str]:
    """The figures of one case: rates, CPU seconds and per-round ratios to each peer with the targets."""
    lines = [f"recorder {label:>5}: whole process, {count} messages, {len(orders)} rounds; median (min-max)"]
    for name, runs in results.items():
        rate = (f"{span([size * count / MB / r.wall_s for r in runs], '.0f')} MB/s" if size >= MB else
                f"{span([count / r.wall_s / 1e3 for r in runs], '.0f')} k msg/s")
        lines.append(f"  {name:<20} {rate}, wall "
                     f"{span([r.wall_s for r in runs])} s, cpu {span([r.cpu_s for r in runs])} s")
    for recorder in (n for n in results if n.startswith("recorder")):
        for peer, target in PROCESS_TARGETS[label].items():
            if peer not in results:
                lines.append(f"  {recorder} / {peer}: skipped ({peer} not installed)")
                continue
            # ratios of rates within each round: the two ran back to back, under the same load
            ratios = [p.wall_s / r.wall_s for r, p in zip(results[recorder], results[peer], strict=True)]
            verdict = "met in every run" if min(ratios) >= target else (
                "met in the median, not in every run" if statistics.median(ratios) >= target else "not met")
            lines.append(f"  {recorder} / {peer}: ratio {span(ratios)} (target >= {target}: {verdict})")
    lines.append("  orders: " + "; ".join(f"round {i + 1}: {o}" for i, o in enumerate(orders)))
    before, after = loads
    lines.append(f"  load average (1/5/15 min) before {'/'.join(f'{x:.1f}' for x in before)}, after "
                 f"{'/'.join(f'{x:.1f}' for x in after)}")
    return lines


def bench_recorder_process(client: dict, admin: TopicAdmin, sizes: Sizes, runs: int, workdir: Path) -> list[str]:
    """The recorder (``donki record``) vs a bare consumer and kcat, as whole processes."""
    import os

    cases = PROCESS_CASES_QUICK if sizes is QUICK else PROCESS_CASES_FULL
    env = process_env(workdir)
    lines = []
    for label, size, count in cases:
        topic = f"bench_proc_{size}_{uuid.uuid4().hex[:6]}"
        admin.create([TopicSpec(topic, 1)])
        log(f"filling {topic}: {count} x {label}")
        fill_topic(client, topic, size, count)
        players = contestants(client["bootstrap.servers"], topic, size, count, workdir)
        rounds_of(players, 1, env)  # warm-up, not counted: byte code cached, the topic in the page cache
        before = list(os.getloadavg())
        results, orders = rounds_of(players, runs, env)
        case = process_lines(label, size, count, results, orders, (before, list(os.getloadavg())))
        admin.delete([topic])
        for line in case:
            log(line)
        lines += case
    return lines


PARTS = {"recorder": bench_recorder_process, "recorder-loop": bench_recorder, "views": bench_views_cost,
         "close": bench_close_latency, "timing": bench_timing, "throughput": bench_throughput}


def run(client: dict, sizes: Sizes, runs: int, parts: list[str]) -> list[str]:
    admin = TopicAdmin(client)
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="donki-bench-") as tmp:
        for part in parts:
            lines += PARTS[part](client, admin, sizes, runs, Path(tmp))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default: 3, quick: 3)")
    parser.add_argument("--bootstrap", default=None, help="use this cluster instead of a local broker")
    parser.add_argument("--only", action="append", choices=sorted(PARTS), default=None,
                        help="run only this part (repeatable; default: all)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    runs = args.runs or 3
    parts = args.only or list(PARTS)
    t0 = time.monotonic()
    if args.bootstrap:
        lines = run({"bootstrap.servers": args.bootstrap}, sizes, runs, parts)
        where = args.bootstrap
    else:
        from harness.kafka import LocalKafka

        with LocalKafka(log=log) as broker:
            lines = run(broker.client_config, sizes, runs, parts)
            where = f"local Kafka {broker.version}"
    print(f"pytest-donki recording benchmark ({'quick' if args.quick else 'full'}, median of {runs} runs, {where}, "
          f"{time.monotonic() - t0:.0f} s)")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
