"""Replay timing measured at delivery, against the schedule, at 1 kHz and 14 Hz.

A paced replay's send times say when the pacer woke and called produce(); a consumer sees
the message when the broker has it. So the figures here are taken at delivery: the time the
replayer handled each message's delivery report (the broker's acknowledgement, acks=all; the
replayer serves its producer while it waits, so a report is handled when it arrives), against
the recorded schedule:

  * interval error: |delivered interval - recorded interval| (the jitter a consumer sees);
  * lateness: delivery time - due time (the send's due time plus the broker's round trip).

Beside the replayer, in the same run and the order rotated between runs (and printed):
  * the send-side figures of the same replays (what the benchmark measured before);
  * a bare confluent-kafka loop (sleep to the due time, produce, wait for its acknowledgement)
    at the same rate: the broker's acknowledgement round trip on this machine and its jitter
    from message to message, the floor that delivery timing cannot go below.

Every figure: median of the runs with min-max; the load average before and after. Target:
p99 interval error at delivery < 1 ms at both rates, in every run ("sustained").

    python benchmarks/replay_timing.py [--quick] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from _rounds import load_text, rotated

from harness.kafka import LocalKafka, TopicAdmin, TopicSpec, make_producer
from harness.recording.replay.pacing import TimingError, fine_timer_slack
from harness.recording.replay.replayer import Replayer
from harness.recording.writer.writer import RecordingWriter
from harness.records import KafkaRecord

TARGET_P99_MS = 1.0
PAYLOAD_BYTES = 1024
RATES_FULL = {1000.0: 5000, 14.0: 140}
RATES_QUICK = {1000.0: 1500, 14.0: 28}


def timed_recording(path: Path, topic: str, rate_hz: float, count: int) -> None:
    """``count`` messages of ``PAYLOAD_BYTES`` recorded exactly ``1/rate_hz`` apart."""
    period_ns = int(round(1e9 / rate_hz))
    payload = bytes(PAYLOAD_BYTES)
    with RecordingWriter(path) as writer:
        for i in range(count):
            ns = 1_700_000_000_000_000_000 + i * period_ns
            writer.append(KafkaRecord(topic, 0, i, ns // 1_000_000, 1, None, payload, (), ns / 1e9))


def replay(client: dict[str, str], path: Path) -> tuple[TimingError, TimingError]:
    """One paced replay of ``path``: (timing at the send, timing at delivery)."""
    report = Replayer(path, client, clock="received").run()
    if report.failed or report.timing is None or report.delivery is None:
        raise RuntimeError(f"replay failed: {report.first_failure or report.line()}")
    return report.timing, report.delivery


def acknowledged_round_trips(client: dict[str, str], topic: str, rate_hz: float, count: int) -> TimingError:
    """A bare producer at ``rate_hz``, each message waited for: ack time against produce time (the floor).

    ``late_*`` is the acknowledgement round trip, ``interval_*`` its jitter between messages.
    """
    fine_timer_slack()
    producer = make_producer(client, **{"linger.ms": 0})
    payload, period = bytes(PAYLOAD_BYTES), 1.0 / rate_hz
    produced: list[float] = []
    acked: list[float] = []
    t0 = time.monotonic() + 0.01
    for i in range(count):
        due = max(t0 + i * period, time.monotonic())
        while (left := due - time.monotonic()) > 0:
            time.sleep(left if left > 0.0005 else 0)
        done: list[float] = []
        produced.append(time.monotonic())
        producer.produce(topic, payload, on_delivery=lambda err, msg, d=done: d.append(time.monotonic()))
        while not done:
            producer.poll(0.0005)
        acked.append(done[0])
    producer.flush(30)
    return TimingError.measure(produced, acked)  # type: ignore[return-value]


def warm_up(client: dict[str, str], admin: TopicAdmin, workdir: Path) -> None:
    """One untimed 1 kHz replay first: a fresh broker's produce path is slow until its JIT has run
    (measured: the first replay's first acknowledgements 160-200 ms late), whichever contender goes first."""
    topic = f"bench_replay_warm_up_{uuid.uuid4().hex[:6]}"
    admin.create([TopicSpec(topic, 1)])
    path = workdir / "warm-up.h5"
    timed_recording(path, topic, 1000.0, 1000)
    replay(client, path)
    admin.delete([topic])


def spread_ms(values: list[float]) -> str:
    ms = [v * 1e3 for v in values]
    return f"{statistics.median(ms):.3f} ({min(ms):.3f}-{max(ms):.3f})"


def rate_pass(client: dict[str, str], admin: TopicAdmin, workdir: Path, rate: float, count: int,
              runs: int) -> list[str]:
    topic = f"bench_replay_timing_{int(rate)}_{uuid.uuid4().hex[:6]}"
    admin.create([TopicSpec(topic, 1)])
    path = workdir / f"timing-{int(rate)}.h5"
    timed_recording(path, topic, rate, count)
    results, orders = rotated(runs, {"replayer": lambda _run: replay(client, path),
                                     "bare": lambda _run: acknowledged_round_trips(client, topic, rate, count)})
    admin.delete([topic])
    sends = [r[0] for r in results["replayer"]]  # type: ignore[index]
    deliveries = [r[1] for r in results["replayer"]]  # type: ignore[index]
    bare: list[TimingError] = results["bare"]  # type: ignore[assignment]
    worst = max(d.interval_p99 for d in deliveries) * 1e3
    verdict = "met in every run" if worst < TARGET_P99_MS else f"missed (worst run {worst:.3f} ms)"
    return [
        f"replay timing {rate:6.0f} Hz ({count} msgs of {PAYLOAD_BYTES} B, median of {runs} (min-max), ms; "
        f"order per run {', '.join(orders)}):",
        f"  at delivery: interval error p50 {spread_ms([d.interval_p50 for d in deliveries])}, "
        f"p99 {spread_ms([d.interval_p99 for d in deliveries])}; lateness p50 "
        f"{spread_ms([d.late_p50 for d in deliveries])}, p99 {spread_ms([d.late_p99 for d in deliveries])}",
        f"  at the send: interval error p99 {spread_ms([s.interval_p99 for s in sends])}; lateness p99 "
        f"{spread_ms([s.late_p99 for s in sends])}",
        f"  bare producer, each message waited for (the floor): ack round trip p50 "
        f"{spread_ms([b.late_p50 for b in bare])}, p99 {spread_ms([b.late_p99 for b in bare])}; its jitter "
        f"p99 {spread_ms([b.interval_p99 for b in bare])}",
        f"  target p99 interval error at delivery < {TARGET_P99_MS:g} ms: {verdict}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 5, quick 2)")
    args = parser.parse_args(argv)
    runs = args.runs or (2 if args.quick else 5)
    rates = RATES_QUICK if args.quick else RATES_FULL
    print(f"load average before {load_text()}", flush=True)
    with LocalKafka() as broker, tempfile.TemporaryDirectory(prefix="donki-bench-") as tmp:
        admin = TopicAdmin(broker.client_config)
        warm_up(broker.client_config, admin, Path(tmp))
        for rate, count in rates.items():
            print("\n".join(rate_pass(broker.client_config, admin, Path(tmp), rate, count, runs)), flush=True)
    print(f"load average after {load_text()}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
