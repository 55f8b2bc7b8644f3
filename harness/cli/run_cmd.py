"""``donki run SCENARIO``: run a scenario against a broker and summarise every stream."""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from harness import validate as v
from harness.cli.kafka_args import add_bootstrap
from harness.cli.output import log

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from rich.table import Table

    from harness.kafka import Broker
    from harness.runs import RunSummary
    from harness.scenarios import Scenario

__all__ = ["format_summary", "register", "summary_table", "verdict_line"]


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
    length.add_argument("--duration", type=v.arg_duration(), metavar="DURATION",
                        help="run this long instead: seconds or 3s, 500ms, 2m, as `duration` in a scenario file "
                             "(at most a week)")
    length.add_argument("--ci", action="store_true", help="the scenario's CI-sized variant ([scenario.ci])")
    parser.add_argument("--json", dest="json_file", type=v.arg_new_file(), metavar="FILE",
                        help="write the summary as JSON to FILE")
    parser.add_argument("--journal", action="store_true", help="include the run journal in the JSON")
    parser.add_argument("--topic-prefix", default=None, help="prefix of the run's topics (default: a fresh one)")
    parser.add_argument("--log-dir", type=Path, default=None, help="keep the players' configs and logs here")
    parser.add_argument("--ignore-rates", action="store_true",
                        help="exit 0 when nothing was lost even if rates were missed (a loaded machine)")
    parser.add_argument("--no-progress", action="store_true", help="no live progress line on stderr")
    parser.set_defaults(func=_run)


def _scenario(args: argparse.Namespace) -> Scenario:
    from harness.scenarios import load_scenario

    scenario = load_scenario(args.scenario)
    if args.ci:
        return scenario.ci()
    return scenario.with_length(triggers=args.triggers, duration_s=args.duration)


def _broker(args: argparse.Namespace) -> Broker:
    from harness.cli.kafka_args import cli_broker

    return cli_broker(args.bootstrap, args.kafka, log)


def _run(args: argparse.Namespace) -> int:
    from harness.cli.output import console, print_table
    from harness.runs import RunRequest, SizedScenario, run

    scenario = _scenario(args)
    log(f"scenario {scenario.name!r}: {len(scenario.players)} player(s), {scenario.triggers} trigger(s) at "
        f"{scenario.rate_hz:g} Hz")
    prefix = args.topic_prefix or f"donki-run-{scenario.name}-{uuid.uuid4().hex[:8]}"  # known before: progress
    with _broker(args) as broker:
        log(f"Kafka: {broker.describe()}")
        with _progress(args, broker.client_config, [f"{prefix}.{local}" for local in scenario.topics()]):
            # the topics stay for the user to inspect, as the summary names them
            outcome = run(RunRequest(SizedScenario.as_given(scenario), broker, topic_prefix=prefix,
                                     keep_topics=True, log_dir=args.log_dir, log=log))
    result = outcome.summary
    out = console()
    print_table(summary_table(result))
    out.print(verdict_line(result), soft_wrap=True, markup=False)
    for problem in result.all_problems():
        out.print(f"  problem: {problem}", soft_wrap=True, markup=False)
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(result.to_dict(journal=args.journal), indent=2) + "\n")
        log(f"wrote {args.json_file}")
    return _exit_code(result, args.ignore_rates)


def _progress(args: argparse.Namespace, client_config: dict[str, object], topics: list[str]
              ) -> AbstractContextManager[object]:
    import contextlib

    from harness.cli.progress import LiveStatus, TopicWatcher

    if args.no_progress:
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    watcher = TopicWatcher(client_config, topics)
    stack.enter_context(LiveStatus("run", watcher.sample))
    stack.enter_context(watcher)  # leaves first: it catches up with the topics before the last line
    return stack


def _exit_code(result: RunSummary, ignore_rates: bool) -> int:
    """0 passed; 1 failed; a run that lost nothing but missed its rates (SLOW) names --ignore-rates."""
    from harness.cli.main import EXIT_FAILED

    if result.ok or (ignore_rates and result.complete):
        return 0
    if result.complete:
        log("SLOW: nothing was lost but rates were missed (see the table); on a loaded machine, pass "
            "--ignore-rates to exit 0 for a complete run")
    return EXIT_FAILED


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


HEADER = ("stream", "kind", "messages", "MB", "rate Hz", "nominal", "msg/s", "acks", "delivered", "in Kafka",
          "status")
STATUS_STYLE = {"ok": "green", "SLOW": "yellow", "LOST": "bold red"}


def summary_table(result: RunSummary) -> Table:
    """The per-stream table of ``donki run`` (rich): status ok, SLOW (rates missed) or LOST."""
    from rich import box
    from rich.table import Table

    table = Table(*HEADER, box=box.SIMPLE_HEAD, pad_edge=False)
    for column in table.columns[2:10]:
        column.justify = "right"
    for s in result.streams:
        status = "ok" if s.ok else ("LOST" if not s.complete else "SLOW")
        table.add_row(s.player, s.stream, str(s.messages), f"{s.bytes / 1e6:.2f}", _rate(s.achieved_rate_hz),
                      f"{s.nominal_rate_hz:g}", _rate(s.message_rate_hz), f"{s.acks}/{s.triggers_due}",
                      s.delivered_at_ack, "-" if s.in_kafka is None else str(s.in_kafka),
                      f"[{STATUS_STYLE[status]}]{status}[/]")
    return table


def verdict_line(result: RunSummary) -> str:
    verdict = "OK" if result.ok else ("COMPLETE BUT SLOW" if result.complete else "FAILED")
    return (f"run {result.scenario.name}: {verdict} ({result.outcome}, {result.elapsed_s:.1f} s); "
            f"topics: {', '.join(result.topics.values())}")


def format_summary(result: RunSummary) -> str:
    """The per-stream table and the verdict as plain text, as ``donki run`` prints them to a pipe."""
    from harness.reporting.table import to_text

    lines = [to_text(summary_table(result), width=160), verdict_line(result)]
    lines += [f"  problem: {p}" for p in result.all_problems()]
    return "\n".join(lines)
