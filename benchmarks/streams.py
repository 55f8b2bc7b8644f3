"""Benchmark of the stream generators and the Kafka producer path.

Prints, in one run (medians over ``--runs`` runs, each against a peer measured in the
same run):

(a) events/s of the ev44 generator + serialiser for 1e6-event pulses, against the naive
    path (uniform numpy draws + ``streaming_data_types.serialise_ev44``);
(b) MB/s the producer path (harness headers, CRC-32, per-trigger delivery tallies)
    delivers to the broker for 8 MB ev44 pulses and for 1 kB f144 messages, as a ratio
    to a raw confluent-kafka producer sending the same pre-built payloads;
(c) whether ``ess-pulse`` (one 8 MB ev44 message per pulse) and ``ess-instrument`` (four
    banks of EFU-sized ev44 messages, a monitor and logs) run 1e6 events per pulse at 14 Hz
    through the whole stack (director, player processes, Kafka) WITH the recorder writing
    HDF5: ``--realtime-runs`` runs of ``--duration`` s each, the scenario order alternated
    per run; a run is sustained when no pulse or message is lost (in Kafka and in the
    recording) and every bank's trigger rate is within 1 % of 14 Hz; "sustained" means
    every run. Then a short search for the highest events/pulse sustained, printed as
    events/s and as a ratio to Kafka's ProducerPerformance sending real ev44 messages of
    that size (``--payload-file``) while kcat consumes them (``_kafka_peer.py``).

Every line carries the load average (``os.getloadavg``): on a shared machine the figures
show direction only. Each run of (c) also prints its CPU split (``_cpu_split.py``: CPU ms
per pulse of the broker, the players, the recorder's threads), which is what says where
the two cores go.

Where the cores go (2026-11-29, 1e6 events/pulse with the recorder, the 2-core machine
shared with other work at load average 4-21; py-spy --native and perf on the processes):

* ``ess-pulse``: 65-119 ms of CPU per pulse, 0.9-1.7 cores at 14 Hz. The broker 22-55 ms
  (perf: 44 % kernel, copying socket data and page cache, 24 % JIT code, 24 % libjvm); the
  player 21-22 ms (44 % numpy's gather from the event pool, ``PyArray_TakeFrom``, 16 %
  memcpy, 10 % zlib's crc32 of the ``donki.crc32`` header, 4 % librdkafka); the recorder
  thread 10-18 ms and its writer 4-5 ms (perf of the process: 71 % kernel, page faults and
  page-cache copies, 14 % memmove, 3 % HDF5). Buffer copies in the player are not the cost:
  an 8 MB copy takes ~0.3 ms, the crc32 ~1.9 ms.
* ``ess-instrument``: 129-258 ms per pulse depending on the load, 1.8-3.6 cores at 14 Hz.
  The four banks cost 50-120 ms together, two to four times ess-pulse's one player for
  the same events: 84 messages a pulse instead of one, and four processes' fixed costs.
  Before ev44 templates the FlatBuffers builder took ~200 us of Python per 12,400-event
  message (a bank pulse 17-33 ms, now 3-11 ms). Acking after delivery, 55 % of a bank
  player's CPU was librdkafka's broker thread (poll and clock_gettime syscalls:
  ``linger.ms = 1`` wakes it every millisecond while a pulse's messages await
  ``acks=all``), hence the banks ack after send. The four small players (run control,
  monitor, two logs) cost ~2-4 ms per trigger each, the director and acks of eight players
  ~12-16 ms: per-player fixed costs, not data. The search shows the same: at load 7-9 the
  achieved rate hardly depended on the size (12.9-13.3 Hz at 1e6 and at 5e5 events/pulse,
  13.4-13.7 at 3.75e5, 14.0 at 2.5e5), so the per-trigger round of eight player processes
  (each scheduled, generating, handing over and acking within its level) limits before
  the bytes do; ess-pulse at 1e6 was sustained in the same search (2 of 2 runs of 10 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
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
        raw_runs, path_runs, orders, loads = [], [], [], []
        for i in range(runs):  # interleaved and A/B order alternated, so neither always runs on a warmer broker
            first_raw = i % 2 == 0
            orders.append("raw-first" if first_raw else "path-first")
            for raw_turn in ((True, False) if first_raw else (False, True)):
                if raw_turn:
                    raw_runs.append(raw_mb_per_s(client_config, admin, payloads, 120.0))
                else:
                    path_runs.append(path_mb_per_s(client_config, admin, batches, 120.0))
            loads.append(os.getloadavg()[0])
        raw, path = statistics.median(raw_runs), statistics.median(path_runs)
        ratios = [p / r for p, r in zip(path_runs, raw_runs, strict=True)]
        log(f"(b) producer path, {label} messages ({size / 1e3:,.1f} kB, {len(payloads)} per run): "
            f"{path:.1f} MB/s ({min(path_runs):.1f}-{max(path_runs):.1f}) vs raw confluent-kafka {raw:.1f} MB/s "
            f"({min(raw_runs):.1f}-{max(raw_runs):.1f}); ratio {path / raw:.2f} (per run {min(ratios):.2f}-"
            f"{max(ratios):.2f}); order per run: {', '.join(orders)}; load {_spread(loads)}")
        results[label] = {"path_mb_s": path, "raw_mb_s": raw, "ratio": path / raw, "path_runs": path_runs,
                          "raw_runs": raw_runs, "orders": orders, "loads": loads, "message_bytes": size,
                          "messages": len(payloads)}
    return results


# -- (c) ess-pulse and ess-instrument in real time, with the recorder ---------------------------

#: a run is sustained when every detector bank's trigger rate is within this of 14 Hz (and nothing was lost)
RATE_WITHIN = 0.01
SCENARIOS = ("ess-pulse", "ess-instrument")


def run_recorded(bootstrap: str, name: str, events: int, duration_s: float) -> dict[str, Any]:
    """One recorded run of built-in ``name`` at ``events`` per pulse (split over its banks)."""
    from _cpu_split import CpuSplit

    from harness.checks.config import ChecksConfig
    from harness.errors import DonkiError
    from harness.recording.reader.reader import open_recording
    from harness.runs import RunRequest, SizedScenario, run
    from harness.scenarios import detector_banks, load_scenario, with_events_per_pulse

    scenario = with_events_per_pulse(load_scenario(name), events).with_length(duration_s=duration_s)
    with tempfile.TemporaryDirectory(prefix="donki-bench-") as workdir:  # ~3.4 GB per 30 s at 1e6: gone after
        with CpuSplit() as cpu:
            try:
                outcome = run(RunRequest(SizedScenario.as_given(scenario), bootstrap, workdir=Path(workdir),
                                         checks=ChecksConfig.only("run")))
            except DonkiError as exc:  # the recorder not stopping in time, say: a failed run, not a crash
                return _failed_run(name, events, scenario.triggers or 0, exc, cpu)
        with open_recording(outcome.recording) as recording:
            recorded = len(recording)
    summary = outcome.summary
    banks = {b.name for b in detector_banks(scenario)}
    streams = [s for s in summary.streams if s.player in banks]
    sent = sum(s.messages for s in summary.streams)
    lost_pulses = sum(s.missed + s.nacks for s in streams) + (0 if summary.complete else 1)
    lost_messages = sum(s.messages - (s.in_kafka or 0) + s.failed for s in streams) + max(0, sent - recorded)
    rates = [s.achieved_rate_hz or 0.0 for s in streams]
    return {"late_s": worst_lateness(summary.journal, sorted(banks), scenario.rate_hz),
            "scenario": name, "events_per_pulse": events, "rate_hz": min(rates), "rates_hz": rates,
            "pulses": summary.scenario.triggers, "lost_pulses": lost_pulses, "lost_messages": lost_messages,
            "sent": sent, "recorded": recorded, "complete": summary.complete, "elapsed_s": summary.elapsed_s,
            "drain_s": summary.drain_s, "load": os.getloadavg()[0], "problems": summary.all_problems(rates=False),
            "cpu_s": cpu.seconds()}


def worst_lateness(journal: Any, banks: list[str], rate_hz: float) -> float:
    """The most a detector bank's trigger was sent behind the 14 Hz schedule (from its first trigger):
    what a stall the schedule made up (``catch_up``) cost in latency, though not in rate."""
    from harness.orchestra.journal import EventKind

    sent = sorted(e.mono for e in journal if e.kind is EventKind.TRIGGER_SENT and e.player == banks[0])
    return max((t - (sent[0] + i / rate_hz) for i, t in enumerate(sent)), default=0.0)


def _failed_run(name: str, events: int, pulses: int, error: Exception, cpu: Any) -> dict[str, Any]:
    return {"late_s": 0.0, "scenario": name, "events_per_pulse": events, "rate_hz": 0.0, "rates_hz": [],
            "pulses": pulses,
            "lost_pulses": pulses, "lost_messages": 0, "sent": 0, "recorded": 0, "complete": False,
            "elapsed_s": None, "drain_s": 0.0, "load": os.getloadavg()[0],
            "problems": [f"the run failed: {error}"], "cpu_s": cpu.seconds()}


def cpu_line(outcome: dict[str, Any]) -> str:
    """Where the cores went in a run: CPU ms per pulse by group, and the cores that is at 14 Hz.

    Per pulse rather than per second, so a run slowed by other load still shows what a pulse
    costs; the recorder's close (writing the NeXus views) is included.
    """
    per: dict[str, float] = {}
    for group, seconds in outcome["cpu_s"].items():
        key = "players: detector banks" if group.startswith("player bank") or group == "player ess-events" else (
            "players: others" if group.startswith("player ") else group)
        per[key] = per.get(key, 0.0) + seconds
    pulses = max(1, outcome["pulses"])
    parts = ", ".join(f"{g} {1e3 * s / pulses:.1f}" for g, s in sorted(per.items(), key=lambda kv: -kv[1])
                      if 1e3 * s / pulses >= 0.5)
    total_ms = 1e3 * sum(per.values()) / pulses
    return (f"CPU per pulse {total_ms:.0f} ms (= {total_ms * ESS_RATE_HZ / 1e3:.2f} cores at 14 Hz, of "
            f"{os.cpu_count()}): {parts}")


def sustained(outcome: dict[str, Any]) -> bool:
    """No pulse or message lost (Kafka and the recording hold every one) and every bank within 1 % of 14 Hz."""
    return outcome["lost_pulses"] == 0 and outcome["lost_messages"] == 0 and \
        abs(outcome["rate_hz"] - ESS_RATE_HZ) <= RATE_WITHIN * ESS_RATE_HZ


def _describe(outcome: dict[str, Any]) -> str:
    verdict = "sustained" if sustained(outcome) else "NOT sustained"
    return (f"{outcome['scenario']} {outcome['events_per_pulse']:,} events/pulse: {verdict}: slowest bank "
            f"{outcome['rate_hz']:.2f} Hz (a pulse at most {1e3 * outcome['late_s']:.0f} ms behind the schedule), "
            f"{outcome['lost_pulses']} pulses and {outcome['lost_messages']} messages "
            f"lost, {outcome['recorded']}/{outcome['sent']} messages recorded, drain {outcome['drain_s']:.2f} s, "
            f"load {outcome['load']:.1f}" + (f"; {outcome['problems'][0]}" if outcome["problems"] else ""))


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def bench_realtime(bootstrap: str, runs: int, duration: float) -> dict[str, Any]:
    """``runs`` recorded runs of each scenario at 1e6 events/pulse, the order alternated per run."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in SCENARIOS}
    orders = []
    for i in range(runs):
        order = SCENARIOS if i % 2 == 0 else SCENARIOS[::-1]
        orders.append(" then ".join(order))
        for name in order:
            results[name].append(run_recorded(bootstrap, name, PULSE_EVENTS, duration))
            log(f"(c) run {i + 1}/{runs} ({orders[-1]}): " + _describe(results[name][-1]))
            log(f"(c)   {cpu_line(results[name][-1])}")
    figures: dict[str, Any] = {"runs": runs, "duration_s": duration, "orders": orders}
    for name, outcomes in results.items():
        ok = sum(map(sustained, outcomes))
        loads = [o["load"] for o in outcomes]
        log(f"(c) {name} 1e6 events/pulse at 14 Hz with the recorder, {runs} runs of {duration:.0f} s: "
            f"sustained in {ok} of {runs} ({'sustained' if ok == runs else 'NOT sustained'}); slowest bank "
            f"{_spread([o['rate_hz'] for o in outcomes])} Hz; load {_spread(loads)}")
        figures[name] = {"sustained_runs": ok, "outcomes": outcomes}
    return figures


def search_highest(bootstrap: str, name: str, repeats: int, duration: float) -> int | None:
    """The largest tried events/pulse of ``name`` sustained in every one of ``repeats`` runs."""
    best: int | None = None
    events = PULSE_EVENTS
    for _ in range(4):  # up by 1.5x while sustained, else down by 2x: a short search, not a bisection
        outcomes = [run_recorded(bootstrap, name, events, duration) for _ in range(repeats)]
        ok = all(map(sustained, outcomes))
        rates = ", ".join(f"{o['rate_hz']:.2f}" for o in outcomes)
        loads = ", ".join(f"{o['load']:.1f}" for o in outcomes)
        log(f"(c) search {name} {events:,} events/pulse, {repeats} x {duration:.0f} s: "
            f"{'sustained' if ok else 'NOT sustained'} (slowest bank {rates} Hz; load {loads})")
        if ok:
            best = max(best or 0, events)
            events = int(events * 1.5)
        elif best is not None:
            break
        else:
            events //= 2
    return best


def bench_peer(broker: Any, name: str, events: int, seconds: float) -> Any:
    """ProducerPerformance + kcat on real ev44 messages of ``name``'s first bank at ``events`` per pulse."""
    from _kafka_peer import producer_performance

    from harness.kafka import TopicAdmin, TopicSpec
    from harness.scenarios import detector_banks, load_scenario, with_events_per_pulse
    from harness.streams.generators import make_generator

    scenario = with_events_per_pulse(load_scenario(name), events)
    bank = detector_banks(scenario)[0]
    generator = make_generator("ess-events", dict(bank.params), seed=1, rate_hz=ESS_RATE_HZ)
    messages = [m for t in range(1, 5) for m in generator.messages(t, t * 71_428_571)]
    per_pulse = len(messages) / 4 * len(detector_banks(scenario))
    topic = f"bench-peer-{time.monotonic_ns()}"
    admin = TopicAdmin(broker.client_config)
    admin.create([TopicSpec(topic, 1)])
    try:
        return producer_performance(broker, topic, [m.payload for m in messages],
                                    events_per_message=events / per_pulse, records=int(per_pulse * 14 * seconds))
    finally:
        admin.delete([topic])


def bench_highest(broker: Any, quick: bool) -> dict[str, Any]:
    """The highest total events/s sustained, as a ratio to ProducerPerformance + kcat."""
    repeats, duration = (1, 3.0) if quick else (2, 10.0)
    figures: dict[str, Any] = {}
    for name in SCENARIOS:
        best = search_highest(broker.bootstrap_servers, name, repeats, duration)
        peer_events = best or PULSE_EVENTS
        if getattr(broker, "runtime", None) is None:
            log(f"(c) {name}: peer skipped (ProducerPerformance needs the local broker's Kafka runtime)")
            continue
        peer = bench_peer(broker, name, peer_events, 3.0 if quick else 10.0)
        ours = (best or 0) * ESS_RATE_HZ
        kcat = f"kcat read them all {peer.kcat_s:.1f} s after the start" if peer.kcat_s else "kcat absent or late"
        log(f"(c) {name} highest sustained: {ours / 1e6:.1f} M events/s ({best or 0:,} events/pulse x 14 Hz); "
            f"ProducerPerformance + kcat on its ev44 messages: {peer.mb_per_s:.0f} MB/s = "
            f"{peer.events_per_s / 1e6:.1f} M events/s ({kcat}; UTF-8 inflated its records x{peer.inflation:.2f}); "
            f"ratio {ours / peer.events_per_s:.2f}; load {os.getloadavg()[0]:.1f}")
        figures[name] = {"highest_events_per_pulse": best, "events_per_s": ours, "peer_mb_s": peer.mb_per_s,
                         "peer_events_per_s": peer.events_per_s, "peer_inflation": peer.inflation,
                         "kcat_s": peer.kcat_s, "ratio": ours / peer.events_per_s}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI-sized: fewer messages, one 3 s run in (c)")
    parser.add_argument("--bootstrap", help="use this broker instead of starting a local one (no peer in (c))")
    parser.add_argument("--runs", type=int, default=None,
                        help="runs per measurement of (a) and (b) (default 5, quick 3)")
    parser.add_argument("--realtime-runs", type=int, default=None,
                        help="recorded runs of each scenario in (c) (default 10, quick 1)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per run in (c) (default 30, quick 3)")
    parser.add_argument("--skip", action="append", default=[], choices=("a", "b", "c", "search"),
                        help="skip a part ('search': the highest-sustained search of (c) and its peer)")
    parser.add_argument("--json", dest="json_file", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 5)
    figures: dict[str, Any] = {"quick": args.quick, "runs": runs}
    log(f"load average at start: {os.getloadavg()[0]:.1f}")
    if "a" not in args.skip:
        figures["generator"] = bench_generator(runs, 5 if args.quick else 20)
    if not {"b", "c"} <= set(args.skip):
        with broker_for(args.bootstrap) as broker:
            log(f"broker: {broker.describe()}")
            if "b" not in args.skip:
                figures["producer"] = bench_producer(broker.client_config, runs, args.quick)
            if "c" not in args.skip:
                realtime_runs = args.realtime_runs or (1 if args.quick else 10)
                duration = args.duration or (3.0 if args.quick else 30.0)
                figures["realtime"] = bench_realtime(broker.bootstrap_servers, realtime_runs, duration)
                if "search" not in args.skip:
                    figures["highest"] = bench_highest(broker, args.quick)
    if args.json_file:
        with open(args.json_file, "w") as fh:
            json.dump(figures, fh, indent=1)
    return 0


def broker_for(bootstrap: str | None):
    from harness.kafka import ExternalKafka, LocalKafka

    return ExternalKafka(bootstrap) if bootstrap else LocalKafka(log=lambda m: print(f"kafka: {m}", file=sys.stderr))


if __name__ == "__main__":
    sys.exit(main())
