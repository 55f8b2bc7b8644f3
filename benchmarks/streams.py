"""Benchmark of the stream generators and the Kafka producer path.

Prints, in one run (medians over ``--runs`` runs, each against a peer measured in the
same run):

(a) events/s of the ev44 generator + serialiser for 1e6-event pulses, against the naive
    path (uniform numpy draws + ``streaming_data_types.serialise_ev44``);
(b) MB/s the producer path (harness headers, CRC-32, per-trigger delivery tallies)
    delivers to the broker for 8 MB ev44 pulses and for 1 kB f144 messages, as a ratio
    to a raw confluent-kafka producer sending the same pre-built payloads;
(c) whether the ``ess-pulse`` scenario (14 Hz x 1e6 events, ~112 MB/s) runs in real time
    through the whole stack (director, player process, Kafka) with no lost message, and
    if not, the highest events/pulse that is sustained.

    python benchmarks/streams.py [--quick] [--bootstrap HOST:PORT] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

import numpy as np

PULSE_EVENTS = 1_000_000
ESS_RATE_HZ = 14.0


def log(message: str) -> None:
    print(message, flush=True)


# -- (a) generator + serialiser -------------------------------------------------------------


def generator_events_per_s(pulses: int, events: int) -> float:
    from harness.streams import EventGenerator

    generator = EventGenerator(seed=1, rate_hz=ESS_RATE_HZ, events_per_pulse=events, detector_shape=(1024, 1024))
    start = time.perf_counter()
    for trigger in range(1, pulses + 1):
        generator.messages(trigger, trigger * 71_428_571)
    return pulses * events / (time.perf_counter() - start)


def naive_events_per_s(pulses: int, events: int) -> float:
    from streaming_data_types import serialise_ev44

    rng = np.random.default_rng(1)
    start = time.perf_counter()
    for trigger in range(1, pulses + 1):
        tof = rng.integers(0, 71_428_571, events, dtype=np.int32)
        pixels = rng.integers(1, 1 << 20, events, dtype=np.int32)
        serialise_ev44("naive", trigger, [trigger * 71_428_571], [0], tof, pixels)
    return pulses * events / (time.perf_counter() - start)


def bench_generator(runs: int, pulses: int) -> dict[str, Any]:
    ours_all, naive_all = [], []
    for _ in range(runs):  # interleaved, so both see the same machine load
        ours_all.append(generator_events_per_s(pulses, PULSE_EVENTS))
        naive_all.append(naive_events_per_s(pulses, PULSE_EVENTS))
    ours, naive = statistics.median(ours_all), statistics.median(naive_all)
    needed = ESS_RATE_HZ * PULSE_EVENTS
    log(f"(a) ev44 generator+serialiser, 1e6-event pulses: {ours / 1e6:.1f} M events/s "
        f"(= {ours / PULSE_EVENTS:.1f} pulses/s; ESS needs {needed / 1e6:.0f} M events/s -> "
        f"{ours / needed:.2f}x real time); naive numpy+serialise_ev44 {naive / 1e6:.1f} M events/s; "
        f"ratio {ours / naive:.2f}")
    return {"events_per_s": ours, "naive_events_per_s": naive, "runs": ours_all, "naive_runs": naive_all,
            "realtime_factor": ours / needed}


# -- (b) producer path vs raw confluent-kafka ----------------------------------------------------


def _fresh_topic(admin, prefix: str) -> str:
    from harness.kafka import TopicSpec

    name = f"bench-{prefix}-{time.monotonic_ns()}"
    admin.create([TopicSpec(name, 1)])
    return name


def raw_mb_per_s(client_config: dict, admin, payloads: list[bytes], timeout_s: float) -> float:
    from harness.kafka.clients import make_producer

    topic = _fresh_topic(admin, "raw")
    producer = make_producer(client_config)
    delivered = [0]

    def on_delivery(error, _message) -> None:
        if error is None:
            delivered[0] += 1

    start = time.perf_counter()
    for payload in payloads:
        while True:
            try:
                producer.produce(topic, payload, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    left = producer.flush(timeout_s)
    elapsed = time.perf_counter() - start
    admin.delete([topic])
    if left or delivered[0] != len(payloads):
        raise SystemExit(f"raw producer lost messages: {delivered[0]} of {len(payloads)} delivered")
    return sum(map(len, payloads)) / elapsed / 1e6


def path_mb_per_s(client_config: dict, admin, batches: list[list], timeout_s: float) -> float:
    from harness.streams import StreamPublisher

    topic = _fresh_topic(admin, "path")
    publisher = StreamPublisher(client_config, topic, "bench")
    publisher.start()
    start = time.perf_counter()
    for trigger, messages in enumerate(batches, start=1):
        publisher.publish(trigger, messages)
    publisher.flush(timeout_s)
    elapsed = time.perf_counter() - start
    total = publisher.total()
    publisher.close()
    admin.delete([topic])
    if total.delivered != total.sent or total.sent != sum(map(len, batches)):
        raise SystemExit(f"producer path lost messages: {total}")
    return total.bytes / elapsed / 1e6


def bench_producer(client_config: dict, runs: int, quick: bool) -> dict[str, Any]:
    from harness.kafka import TopicAdmin
    from harness.streams import EventGenerator, ScalarGenerator

    admin = TopicAdmin(client_config)
    pulses = EventGenerator(seed=2, rate_hz=ESS_RATE_HZ, events_per_pulse=PULSE_EVENTS)
    big = [m for t in range(1, (8 if quick else 30) + 1) for m in pulses.messages(t, t * 71_428_571)]
    small_count = 20_000 if quick else 100_000
    scalars = ScalarGenerator(seed=3, rate_hz=1000.0, length=118, per_trigger=100)  # 118 doubles: a 1 kB f144
    small = [scalars.messages(t, t * 100_000_000) for t in range(1, small_count // 100 + 1)]
    results = {}
    for label, batches in (("ev44 8 MB", [[m] for m in big]), ("f144 1 kB", small)):
        payloads = [m.payload for batch in batches for m in batch]
        size = statistics.mean(map(len, payloads))
        raw_runs, path_runs = [], []
        for _ in range(runs):  # interleaved, so both see the same machine load
            raw_runs.append(raw_mb_per_s(client_config, admin, payloads, 120.0))
            path_runs.append(path_mb_per_s(client_config, admin, batches, 120.0))
        raw, path = statistics.median(raw_runs), statistics.median(path_runs)
        log(f"(b) producer path, {label} messages ({size / 1e3:,.1f} kB, {len(payloads)} per run): "
            f"{path:.1f} MB/s vs raw confluent-kafka {raw:.1f} MB/s; ratio {path / raw:.2f}")
        results[label] = {"path_mb_s": path, "raw_mb_s": raw, "ratio": path / raw, "path_runs": path_runs,
                          "raw_runs": raw_runs, "message_bytes": size, "messages": len(payloads)}
    return results


# -- (c) ess-pulse in real time ------------------------------------------------------------------


def run_ess_pulse(bootstrap: str, events: int, duration_s: float) -> dict[str, Any]:
    from dataclasses import replace

    from harness.runs import RunRequest, SizedScenario, run
    from harness.scenarios import load_scenario

    scenario = load_scenario("ess-pulse").with_length(duration_s=duration_s)
    players = tuple(replace(p, params={**p.params, "events_per_pulse": events}) if p.stream == "ess-events" else p
                    for p in scenario.players)
    result = run(RunRequest(SizedScenario.as_given(replace(scenario, players=players)), bootstrap)).summary
    stream = result.stream("ess-events")
    from harness.orchestra import EventKind

    latencies = sorted(e.latency_s for e in result.journal.of_kind(EventKind.ACK)
                       if e.player == "ess-events" and e.latency_s is not None)
    return {"events_per_pulse": events, "complete": result.complete, "achieved_hz": stream.achieved_rate_hz,
            "ack_latency_p50_ms": 1e3 * latencies[len(latencies) // 2] if latencies else None,
            "ack_latency_p95_ms": 1e3 * latencies[int(0.95 * (len(latencies) - 1))] if latencies else None,
            "nominal_hz": stream.nominal_rate_hz, "messages": stream.messages, "in_kafka": stream.in_kafka,
            "failed": stream.failed, "missed": stream.missed, "elapsed_s": result.elapsed_s,
            "drain_s": result.drain_s, "mb_s": stream.bytes / 1e6 / (result.elapsed_s + result.drain_s),
            "problems": result.all_problems(rates=False)}


#: the backlog left in the producer's queue when the last trigger was acked may take this long
MAX_DRAIN_S = 1.0


def sustained(outcome: dict[str, Any]) -> bool:
    """Nothing lost, the trigger rate within 2 % of 14 Hz, and no backlog hidden in the queue."""
    return bool(outcome["complete"]) and outcome["achieved_hz"] is not None and \
        outcome["achieved_hz"] >= 0.98 * ESS_RATE_HZ and outcome["drain_s"] <= MAX_DRAIN_S


def _describe(events: int, duration: float, outcome: dict[str, Any]) -> str:
    verdict = "sustained" if sustained(outcome) else "NOT sustained"
    return (f"(c) ess-pulse {events:,} events/pulse for {duration:.0f} s: {verdict}: "
            f"{outcome['achieved_hz'] or 0.0:.2f} Hz of {ESS_RATE_HZ:.0f} Hz, {outcome['mb_s']:.0f} MB/s delivered, "
            f"{outcome['in_kafka']}/{outcome['messages']} pulses in Kafka, {outcome['failed']} failed, "
            f"{outcome['missed']} triggers missed, queue drained in {outcome['drain_s']:.2f} s, "
            f"pulse generate+deliver+ack p50 {outcome['ack_latency_p50_ms'] or 0:.0f} ms / "
            f"p95 {outcome['ack_latency_p95_ms'] or 0:.0f} ms (period 71 ms)"
            + (f"; {outcome['problems'][0]}" if outcome["problems"] else ""))


def bench_ess_pulse(bootstrap: str, quick: bool, repeats: int) -> dict[str, Any]:
    """Step the events per pulse down until the median of ``repeats`` runs is sustained."""
    duration = 5.0 if quick else 30.0
    tried = []
    for events in (PULSE_EVENTS, 750_000, 500_000, 250_000, 100_000):
        outcomes = []
        for _ in range(repeats):
            outcomes.append(run_ess_pulse(bootstrap, events, duration))
            log(_describe(events, duration, outcomes[-1]))
        rates = [o["achieved_hz"] or 0.0 for o in outcomes]
        median = statistics.median(rates)
        ok = median >= 0.98 * ESS_RATE_HZ and all(o["complete"] and o["drain_s"] <= MAX_DRAIN_S for o in outcomes)
        tried.append({"events_per_pulse": events, "median_hz": median, "sustained": ok, "runs": outcomes})
        log(f"(c) ess-pulse {events:,} events/pulse: median {median:.2f} Hz over {repeats} run(s) "
            f"({', '.join(f'{r:.2f}' for r in rates)}): {'sustained' if ok else 'NOT sustained'}")
        if ok:
            break
    best = next((t["events_per_pulse"] for t in tried if t["sustained"]), None)
    log(f"(c) highest events/pulse sustained at 14 Hz: {best:,}" if best else
        "(c) no tried size was sustained at 14 Hz")
    return {"duration_s": duration, "repeats": repeats, "tried": tried, "highest_sustained_events_per_pulse": best}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI-sized: fewer messages and a 5 s ess-pulse")
    parser.add_argument("--bootstrap", help="use this broker instead of starting a local one")
    parser.add_argument("--runs", type=int, default=None,
                        help="runs per measurement of (a) and (b) (default 5, quick 3); (c) runs 3 (quick 1)")
    parser.add_argument("--skip", action="append", default=[], choices=("a", "b", "c"), help="skip a part")
    parser.add_argument("--json", dest="json_file", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 5)
    figures: dict[str, Any] = {"quick": args.quick, "runs": runs}
    if "a" not in args.skip:
        figures["generator"] = bench_generator(runs, 5 if args.quick else 20)
    if not {"b", "c"} <= set(args.skip):
        with broker_for(args.bootstrap) as broker:
            log(f"broker: {broker.describe()}")
            if "b" not in args.skip:
                figures["producer"] = bench_producer(broker.client_config, runs, args.quick)
            if "c" not in args.skip:
                figures["ess_pulse"] = bench_ess_pulse(broker.bootstrap_servers, args.quick, 1 if args.quick else 3)
    if args.json_file:
        with open(args.json_file, "w") as fh:
            json.dump(figures, fh, indent=1)
    return 0


def broker_for(bootstrap: str | None):
    from harness.kafka import ExternalKafka, LocalKafka

    return ExternalKafka(bootstrap) if bootstrap else LocalKafka(log=lambda m: print(f"kafka: {m}", file=sys.stderr))


if __name__ == "__main__":
    sys.exit(main())
