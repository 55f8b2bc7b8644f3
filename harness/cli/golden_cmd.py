"""``donki golden record|compare|diff``: golden recordings of scenarios, and comparisons."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.output import log

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    from harness.recording.golden.modes import RecordMode
    from harness.recording.golden.payloads import PAYLOAD_MODES

    golden = subparsers.add_parser("golden", help="record scenarios as golden recordings and compare runs with them")
    sub = golden.add_subparsers(dest="golden_command", metavar="ACTION", required=True)

    record = sub.add_parser("record", help="run scenarios (their short CI variant) and record golden recordings",
                            description="Run each scenario and write its golden recording as --mode says "
                                        "(default once: only missing ones). An incomplete run writes nothing.")
    _common(record)
    record.add_argument("--mode", choices=RecordMode.choices(), default=RecordMode.ONCE.value,
                        help="record mode (default: %(default)s)")
    record.set_defaults(func=_record)

    compare = sub.add_parser("compare", help="run scenarios and compare each with its golden recording")
    _common(compare)
    compare.add_argument("--payloads", choices=PAYLOAD_MODES, default="normalized",
                         help="payload comparison (default: %(default)s)")
    compare.set_defaults(func=_compare)

    diff = sub.add_parser("diff", help="compare two recording files (golden first)")
    diff.add_argument("golden", metavar="GOLDEN.h5")
    diff.add_argument("run", metavar="RUN.h5")
    diff.add_argument("--payloads", choices=PAYLOAD_MODES, default="normalized")
    diff.add_argument("--rate-tolerance", type=float, default=0.2, help="relative (default: %(default)s)")
    diff.set_defaults(func=_diff)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="built-in names or files (default: --all)")
    parser.add_argument("--all", action="store_true", help="every built-in scenario")
    parser.add_argument("--dir", default=None, help="golden recordings directory (default: $DONKI_RECORDINGS or "
                                                    "recordings)")
    parser.add_argument("--bootstrap", "-b", default=None, help="Kafka cluster (default: start a local broker)")


def _scenarios(args: argparse.Namespace) -> list:
    from harness.errors import ConfigError
    from harness.runs import golden_variant
    from harness.scenarios import builtin_names

    names = builtin_names() if args.all else args.scenarios
    if not names:
        raise ConfigError("name one or more scenarios, or pass --all for every built-in")
    return [golden_variant(name) for name in names]


def _store(args: argparse.Namespace, mode: str):
    from harness.config import resolve
    from harness.recording.golden.store import GoldenStore

    return GoldenStore(resolve("recordings", option=args.dir), mode)


def _broker(args: argparse.Namespace):
    from harness.config import resolve
    from harness.kafka import make_broker

    return make_broker(resolve("kafka"), bootstrap=resolve("bootstrap", option=args.bootstrap), log=log)


def _record(args: argparse.Namespace) -> int:
    import tempfile

    from harness.runs import GoldenRequest, RunRequest, SizedScenario, record_golden

    scenarios = _scenarios(args)
    store = _store(args, args.mode)
    failed = 0
    with _broker(args) as broker, tempfile.TemporaryDirectory() as tmp:
        for scenario in scenarios:
            written = record_golden(RunRequest(SizedScenario.as_given(scenario), broker, workdir=Path(tmp),
                                               golden=GoldenRequest(store, scenario.name), checks=False, log=log))
            plan = store.plan(scenario.name)
            print(f"{scenario.name}: {'wrote ' + str(written) if written else 'unchanged ' + str(plan.path)}")
            failed += written is None and plan.record and not plan.path.exists()
    return 1 if failed else 0


def _compare(args: argparse.Namespace) -> int:
    import tempfile

    from harness.recording.golden.compare import Tolerance
    from harness.runs import GoldenRequest, RunRequest, SizedScenario, compare_golden

    scenarios = _scenarios(args)
    store = _store(args, "none")
    tolerance = Tolerance(payloads=args.payloads)
    differing = 0
    with _broker(args) as broker, tempfile.TemporaryDirectory() as tmp:
        for scenario in scenarios:
            result = compare_golden(RunRequest(SizedScenario.as_given(scenario), broker, workdir=Path(tmp),
                                               golden=GoldenRequest(store, scenario.name), checks=False,
                                               tolerance=tolerance, log=log))
            print(result.report())
            differing += not result.ok
    return 1 if differing else 0


def _diff(args: argparse.Namespace) -> int:
    from harness.recording.golden.compare import Tolerance, compare_recordings

    result = compare_recordings(args.golden, args.run, tolerance=Tolerance(rate=args.rate_tolerance,
                                                                           payloads=args.payloads))
    print(result.report())
    return 0 if result.ok else 1
