"""``donki run SCENARIO``: run a scenario against a broker and summarise every stream."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from harness import validate as v
from harness.cli.kafka_args import add_bootstrap
from harness.cli.output import log

if TYPE_CHECKING:
    from harness.kafka import Broker
    from harness.runs import RunSummary
    from harness.scenarios import Scenario

__all__ = ["register", "format_summary"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run", help="run a scenario: director, players and Kafka, then a per-stream summary",
        description="Run a built-in scenario (see `donki scenarios`) or a scenario file. Starts the embedded "
                    "Kafka broker unless --bootstrap names one; exits 1 when the run lost data or missed its "
                    "rates, 2 on bad input.")
    parser.add_argument("scenario", metavar="SCENARIO", help="built-in scenario name or path of a .toml file")
    add_bootstrap(parser, help="use this Kafka cluster (default: $DONKI_BOOTSTRAP, else start a broker)")
    parser.add_argument("--kafka", choices=("auto", "local", "container", "external"), default=None,
                        help="broker provider when no --bootstrap is given (default: auto)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--triggers", type=v.arg_int(1, v.MAX_TRIGGERS), metavar="N",
                        help="run N triggers instead of the scenario's length")
    length.add_argument("--duration", type=v.arg_duration(), metavar="SECONDS",
                        help="run this long instead (at most a week)")
    length.add_argument("--ci", action="store_true", help="the scenario's CI-sized variant ([scenario.ci])")
    parser.add_argument("--json", dest="json_file", type=v.arg_new_file(), metavar="FILE",
                        help="write the summary as JSON to FILE")
    parser.add_argument("--journal", action="store_true", help="include the run journal in the JSON")
    parser.add_argument("--topic-prefix", default=None, help="prefix of the run's topics (default: a fresh one)")
    parser.add_argument("--log-dir", type=Path, default=None, help="keep the players' configs and logs here")
    parser.add_argument("--ignore-rates", action="store_true",
                        help="exit 0 when nothing was lost even if rates were missed (a loaded machine)")
    parser.set_defaults(func=_run)


def _scenario(args: argparse.Namespace) -> Scenario:
    from harness.scenarios import load_scenario

    scenario = load_scenario(args.scenario)
    if args.ci:
        return scenario.ci()
    return scenario.with_length(triggers=args.triggers, duration_s=args.duration)


def _broker(args: argparse.Namespace) -> Broker:
    from harness.config import resolve
    from harness.kafka import make_broker

    bootstrap = resolve("bootstrap", option=args.bootstrap)
    kind = resolve("kafka", option=args.kafka)
    return make_broker(kind, bootstrap=bootstrap, log=log)


def _run(args: argparse.Namespace) -> int:
    from harness.cli.main import EXIT_FAILED
    from harness.runs import RunRequest, SizedScenario, run

    scenario = _scenario(args)
    log(f"scenario {scenario.name!r}: {len(scenario.players)} player(s), {scenario.triggers} trigger(s) at "
         f"{scenario.rate_hz:g} Hz")
    with _broker(args) as broker:
        log(f"Kafka: {broker.describe()}")
        # the topics stay for the user to inspect, as the summary names them
        outcome = run(RunRequest(SizedScenario.as_given(scenario), broker, topic_prefix=args.topic_prefix,
                                 keep_topics=True, log_dir=args.log_dir, log=log))
    result = outcome.summary
    print(format_summary(result))
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(result.to_dict(journal=args.journal), indent=2) + "\n")
        log(f"wrote {args.json_file}")
    passed = result.complete if args.ignore_rates else result.ok
    return 0 if passed else EXIT_FAILED


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def format_summary(result: RunSummary) -> str:
    """The per-stream table and the verdict, as printed by ``donki run``."""
    header = ("stream", "kind", "messages", "MB", "rate Hz", "nominal", "msg/s", "acks", "delivered", "in Kafka",
              "status")
    rows = [header]
    for s in result.streams:
        status = "ok" if s.ok else ("LOST" if not s.complete else "SLOW")
        rows.append((s.player, s.stream, str(s.messages), f"{s.bytes / 1e6:.2f}", _rate(s.achieved_rate_hz),
                     f"{s.nominal_rate_hz:g}", _rate(s.message_rate_hz), f"{s.acks}/{s.triggers_due}",
                     str(s.delivered), "-" if s.in_kafka is None else str(s.in_kafka), status))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    verdict = "OK" if result.ok else ("COMPLETE BUT SLOW" if result.complete else "FAILED")
    lines.append(f"run {result.scenario.name}: {verdict} ({result.outcome}, {result.elapsed_s:.1f} s); "
                 f"topics: {', '.join(result.topics.values())}")
    lines += [f"  problem: {p}" for p in result.all_problems()]
    return "\n".join(lines)
