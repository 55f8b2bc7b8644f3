"""Benchmark of the file-writer double against the recorder on the same ev44 + f144 stream.

Fills one topic with ``--pulses`` ev44 pulses of ``--events`` events (14 Hz data times,
in the past) and one with a 14 Hz f144 log, then, against the same broker:

1. the recorder records both topics to their end (raw log, with NeXus views);
2. the double gets a pl72 for the whole span, writes the file and reports wrdn.

Prints each one's seconds and event rate, the writer/recorder throughput ratio, and
whether the writer kept real time (wrote the span faster than the span lasted).
Figures are from one run on whatever machine this is; compare them, do not quote them.

    python benchmarks/filewriter.py [--quick] [--pulses N] [--events N] [--bootstrap HOST:PORT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from harness.kafka import TopicAdmin, TopicSpec, make_consumer, make_producer

MS = 1_000_000
PULSE_NS = 71_428_571


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def fill(client: dict, events: str, logs: str, pulses: int, per_pulse: int, t0: int) -> None:
    from streaming_data_types import serialise_ev44, serialise_f144

    producer = make_producer(client)
    rng = np.random.default_rng(0)
    tof = rng.integers(0, PULSE_NS, per_pulse, dtype=np.int32)
    pixels = rng.integers(1, 1 << 20, per_pulse, dtype=np.int32)
    for i in range(pulses):
        t = t0 + i * PULSE_NS
        for topic, payload in ((events, serialise_ev44("det", i, [t], [0], tof, pixels)),
                               (logs, serialise_f144("temp", 290.0 + i, t))):
            while True:
                try:
                    producer.produce(topic, payload, timestamp=t // MS)
                    break
                except BufferError:
                    producer.poll(0.1)
        producer.poll(0)
    if producer.flush(120):
        raise RuntimeError("the benchmark data were not all delivered within 120 s")


def record(client: dict, topics: list[str], path: Path) -> float:
    from harness.recording.writer.recorder import Recorder

    recorder = Recorder(path, topics, client, until_end=True, views=True)
    recorder.open()
    start = time.perf_counter()
    recorder.run()
    return time.perf_counter() - start


def structure(events: str, logs: str) -> str:
    return json.dumps({"children": [{"type": "group", "name": "entry", "children": [
        {"type": "group", "name": "detector", "children": [{"module": "ev44", "config": {"source": "det",
                                                                                        "topic": events}}]},
        {"type": "group", "name": "temperature", "children": [{"module": "f144", "config": {"source": "temp",
                                                                                           "topic": logs}}]}]}]})


def write(client: dict, events: str, logs: str, pool: str, out: Path, t0: int, pulses: int) -> float:
    from streaming_data_types import deserialise_wrdn, serialise_pl72

    from harness.filewriter import FileWriterService, WriterSettings
    from harness.records import schema_id

    reader = make_consumer(client)
    reader.subscribe([pool])
    with FileWriterService(client, WriterSettings(pool, out, stop_leeway_s=0.2)):
        producer = make_producer(client, **{"linger.ms": 0})
        start = time.perf_counter()
        producer.produce(pool, serialise_pl72("bench", "bench.nxs", start_time=t0 // MS,
                                              stop_time=(t0 + (pulses - 1) * PULSE_NS) // MS,
                                              nexus_structure=structure(events, logs), control_topic=pool))
        producer.flush(10)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            message = reader.poll(0.1)
            if message is not None and message.error() is None and schema_id(message.value()) == "wrdn":
                done = deserialise_wrdn(message.value())
                if done.error_encountered:
                    raise RuntimeError(f"the writer failed: {done.message}")
                elapsed = time.perf_counter() - start
                reader.close()
                return elapsed
    raise RuntimeError("no wrdn within 600 s")


def run(client: dict, pulses: int, per_pulse: int, runs: int = 2) -> list[str]:
    """Time the recorder and the writer on the same stream ``runs`` times, the A/B order alternated."""
    admin = TopicAdmin(client)
    tag = uuid.uuid4().hex[:8]
    events, logs = f"bench_{tag}_events", f"bench_{tag}_logs"
    pools = [f"bench_{tag}_pool{i}" for i in range(runs)]  # a job pool per run: no earlier run's wrdn in it
    admin.create([TopicSpec(events, 1), TopicSpec(logs, 1), *(TopicSpec(pool, 1) for pool in pools)])
    lines: list[str] = []
    recorder_times, writer_times, ratios = [], [], []
    try:
        t0 = (time.time_ns() // MS - pulses * 72 - 10_000) * MS  # the whole span lies in the past
        log(f"filling {pulses} pulses of {per_pulse:,} events")
        fill(client, events, logs, pulses, per_pulse, t0)
        for i in range(runs):
            writer_first = i % 2 == 1
            with tempfile.TemporaryDirectory() as tmp:
                if writer_first:
                    writer_s = write(client, events, logs, pools[i], Path(tmp), t0, pulses)
                    recorder_s = record(client, [events, logs], Path(tmp) / "recording.h5")
                else:
                    recorder_s = record(client, [events, logs], Path(tmp) / "recording.h5")
                    writer_s = write(client, events, logs, pools[i], Path(tmp), t0, pulses)
            recorder_times.append(recorder_s)
            writer_times.append(writer_s)
            ratios.append(recorder_s / writer_s)
            order = "writer first" if writer_first else "recorder first"
            lines.append(f"run {i + 1} ({order}): recorder {recorder_s:.2f} s, writer {writer_s:.2f} s, "
                         f"ratio {recorder_s / writer_s:.2f}")
    finally:
        admin.delete([events, logs, *pools])
    span_s = pulses * PULSE_NS / 1e9
    total = pulses * per_pulse
    recorder_s, writer_s = statistics.median(recorder_times), statistics.median(writer_times)
    return [f"ev44 {pulses} pulses x {per_pulse:,} events + f144, data span {span_s:.1f} s", *lines,
            f"recorder: {recorder_s:.2f} s median ({total / recorder_s / 1e6:.1f} M events/s)",
            f"writer:   {writer_s:.2f} s median ({total / writer_s / 1e6:.1f} M events/s), pl72 to wrdn",
            f"writer/recorder throughput ratio: median {statistics.median(ratios):.2f}, min {min(ratios):.2f} "
            f"over {runs} run(s) (target >= 0.8 in every run: {'met' if min(ratios) >= 0.8 else 'not met'})",
            f"writer keeps real time: {'yes' if max(writer_times) < span_s else 'no'} "
            f"(slowest {max(writer_times):.2f} s for {span_s:.1f} s)"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulses", type=int, default=140, help="ev44 pulses (default 140: 10 s at 14 Hz)")
    parser.add_argument("--events", type=int, default=1_000_000, help="events per pulse (default 1e6)")
    parser.add_argument("--bootstrap", default=None, help="use this cluster instead of a local broker")
    parser.add_argument("--runs", type=int, default=4, help="timed runs, A/B order alternated (default 4)")
    parser.add_argument("--quick", action="store_true", help="the CI size: 28 pulses of 100,000 events, 2 runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.pulses, args.events, args.runs = 28, 100_000, 2
    if not 1 <= args.pulses <= 100_000 or not 0 <= args.events <= 10_000_000:
        parser.error("--pulses must be 1..100000 and --events 0..10000000")
    if not 1 <= args.runs <= 100:
        parser.error("--runs must be 1..100")
    if args.bootstrap:
        lines = run({"bootstrap.servers": args.bootstrap}, args.pulses, args.events, args.runs)
    else:
        from harness.kafka import LocalKafka

        with LocalKafka(log=log) as broker:
            lines = run(broker.client_config, args.pulses, args.events, args.runs)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
