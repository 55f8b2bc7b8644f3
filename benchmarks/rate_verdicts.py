"""Rate verdicts on a loaded machine: false failures of correct runs, and a slow stream caught.

Runs ``ess-pulse`` at its default length (5 triggers) ``--runs`` times in a row through the
run pipeline, each with a confluent-kafka consumer in this process that decodes every ev44
message of the detector topic (the user's service test of issue 10), and counts the runs
whose rates check failed: with the jitter bound (today's verdict) and, for comparison, with
the tolerance alone (``confidence=0``, the verdict before). Then runs the scenario
``--slow-runs`` times at 20 % under its rate (11.2 Hz instead of 14 Hz) for
``--slow-triggers`` triggers and checks the detector stream against the nominal 14 Hz:
every such run must fail.

    python benchmarks/rate_verdicts.py [--quick] [--runs 30] [--slow-runs 3] [--slow-triggers 20]
                                       [--bootstrap HOST:PORT]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checks.rates import check_rates
from harness.runs import RunRequest, run, size_scenario
from harness.scenarios import Scenario, load_scenario

DETECTOR = "ess-events"
SLOW_FACTOR = 0.8


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


@dataclass
class DecodingConsumer:
    """A service under test: a thread that reads the detector topic and decodes every ev44 message."""

    client: dict[str, Any]
    messages: int = 0
    events: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self, topics: dict[str, str]) -> None:
        self.thread = threading.Thread(target=self._consume, args=(topics["donki_detector"],), daemon=True)
        self.thread.start()

    def _consume(self, topic: str) -> None:
        from confluent_kafka import Consumer
        from streaming_data_types import deserialise_ev44

        from harness.kafka import consumer_config

        consumer = Consumer(consumer_config(self.client, **{"auto.offset.reset": "earliest"}))
        consumer.subscribe([topic])
        try:
            while not self.stop.is_set():
                message = consumer.poll(0.1)
                if message is None or message.error():
                    continue
                data = deserialise_ev44(message.value())
                self.messages += 1
                self.events += int(data.pixel_id.size) + int(data.time_of_flight.sum() > 0)
        finally:
            consumer.close()

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(30)


def one_run(sized: Any, client: dict[str, Any], workdir: Path) -> tuple[Any, DecodingConsumer]:
    """One recorded, checked run with the decoding consumer started by ``before_run``."""
    service = DecodingConsumer(client)
    try:
        outcome = run(RunRequest(sized, str(client["bootstrap.servers"]), workdir=workdir, keep_topics=True,
                                 before_run=service.start))
    finally:
        service.close()  # before the topics go, so the consumer never sees them vanish
    outcome.close()
    return outcome, service


def _intervals_ms(times: list[float]) -> str:
    return "/".join(f"{(b - a) * 1e3:.0f}" for a, b in zip(times, times[1:], strict=False))


def correct_runs(client: dict[str, Any], runs: int, tmp: Path) -> list[str]:
    scenario = load_scenario("ess-pulse")
    sized = size_scenario(scenario)
    failed_now = failed_before = summary_slow = 0
    lines = []
    for i in range(runs):
        outcome, service = one_run(sized, client, tmp / f"ok-{i}")
        rates = outcome.checks["rates"]
        times = outcome.trigger_times[DETECTOR]
        before = check_rates({DETECTOR: times}, {DETECTOR: scenario.rate_hz}, tolerance=0.05, confidence=0.0)
        m = rates.metrics.get(DETECTOR, {})
        failed_now += not rates.passed
        failed_before += not before.passed
        summary_slow += any(s.rate_problem for s in outcome.summary.streams)
        line = (f"run {i + 1:2d}: rates {'passed' if rates.passed else 'FAILED'} (tolerance alone: "
                f"{'passed' if before.passed else 'failed'}), achieved {m.get('achieved_hz', 0):.2f} Hz, "
                f"bound +-{m.get('bound_hz', 0):.2f} Hz, intervals {_intervals_ms(times)} ms, "
                f"consumer decoded {service.messages} msgs, "
                f"unrated {rates.metrics['unrated']}, load {loadavg()}")
        log(line)
        lines.append(line)
        if not rates.passed:
            lines += [f"    {f.message}" for f in rates.findings]
    lines.append(f"correct ess-pulse, {runs} runs of {sized.scenario.triggers} triggers with a decoding consumer: "
                 f"{failed_now} false rate failures with the jitter bound, {failed_before} with the tolerance alone; "
                 f"{summary_slow} runs whose summary called a stream slow")
    return lines


def slow_runs(client: dict[str, Any], runs: int, triggers: int, tmp: Path) -> list[str]:
    scenario = load_scenario("ess-pulse")
    data = scenario.to_dict()
    data["scenario"]["rate"] = scenario.rate_hz * SLOW_FACTOR
    slow = Scenario.from_dict(data, "ess-pulse at 80 % of its rate")
    sized = size_scenario(size_scenario(slow).scenario, triggers)
    caught = 0
    lines = []
    for i in range(runs):
        outcome, _ = one_run(sized, client, tmp / f"slow-{i}")
        times = outcome.trigger_times[DETECTOR]
        result = check_rates({DETECTOR: times}, {DETECTOR: scenario.rate_hz}, tolerance=0.05)
        caught += not result.passed
        text = result.findings[0].message if result.findings else f"passed: {result.metrics[DETECTOR]}"
        line = f"slow run {i + 1}: {text}; load {loadavg()}"
        log(line)
        lines.append(line)
    lines.append(f"ess-pulse at {SLOW_FACTOR:.0%} of its rate, {runs} runs of {triggers} triggers checked against "
                 f"{scenario.rate_hz:g} Hz: {caught} of {runs} failed the rates check (must be all)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="correct default-length runs (default 30)")
    parser.add_argument("--slow-runs", type=int, default=3, help="runs 20 %% under the rate (default 3)")
    parser.add_argument("--slow-triggers", type=int, default=20, help="triggers of a slow run (default 20)")
    parser.add_argument("--bootstrap", default=None, help="use this cluster instead of a local broker")
    parser.add_argument("--quick", action="store_true", help="CI size: 3 correct runs, 1 slow run")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.slow_runs = 3, 1
    t0 = time.monotonic()
    log(f"load before: {loadavg()}")
    with tempfile.TemporaryDirectory(prefix="donki-rates-") as tmp:
        if args.bootstrap:
            lines = _all({"bootstrap.servers": args.bootstrap}, args, Path(tmp))
        else:
            from harness.kafka import LocalKafka

            with LocalKafka(log=log) as broker:
                lines = _all(dict(broker.client_config), args, Path(tmp))
    print(f"pytest-donki rate verdicts ({time.monotonic() - t0:.0f} s, load after {loadavg()})")
    print("\n".join(lines))
    return 0


def _all(client: dict[str, Any], args: argparse.Namespace, tmp: Path) -> list[str]:
    return correct_runs(client, args.runs, tmp) + slow_runs(client, args.slow_runs, args.slow_triggers, tmp)


if __name__ == "__main__":
    sys.exit(main())
