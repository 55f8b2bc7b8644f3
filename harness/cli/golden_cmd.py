"""``donki golden record|compare|diff``: golden recordings of scenarios, and comparisons."""

from __future__ import annotations

import argparse

from harness import validate as v
from harness.cli.output import log

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    from harness.recording.modes import RecordMode
    from harness.recording.payloads import PAYLOAD_MODES

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
    diff.add_argument("--rate-tolerance", type=v.arg_number(0.0, 100.0), default=0.2,
                      help="relative, 0 to 100 (default: %(default)s)")
    diff.set_defaults(func=_diff)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="built-in names or files (default: --all)")
    parser.add_argument("--all", action="store_true", help="every built-in scenario")
    parser.add_argument("--dir", default=None, help="golden recordings directory (default: $DONKI_RECORDINGS or "
                                                    "recordings)")
    parser.add_argument("--bootstrap", "-b", default=None, help="Kafka cluster (default: start a local broker)")


def _scenarios(args: argparse.Namespace) -> list:
    from harness.errors import ConfigError
    from harness.recording.scenario_recording import golden_scenario
    from harness.scenarios import builtin_names

    names = builtin_names() if args.all else args.scenarios
    if not names:
        raise ConfigError("name one or more scenarios, or pass --all for every built-in")
    return [golden_scenario(name) for name in names]


def _store(args: argparse.Namespace, mode: str):
    from harness.config import resolve
    from harness.recording.golden import GoldenStore

    return GoldenStore(resolve("recordings", option=args.dir), mode)


def _broker(args: argparse.Namespace):
    from harness.config import resolve
    from harness.kafka import make_broker

    return make_broker(resolve("kafka"), bootstrap=resolve("bootstrap", option=args.bootstrap), log=log)


def _record(args: argparse.Namespace) -> int:
    from harness.recording.scenario_recording import record_golden

    scenarios = _scenarios(args)
    store = _store(args, args.mode)
    failed = 0
    with _broker(args) as broker:
        for scenario in scenarios:
            written = record_golden(store, scenario, broker, log=log)
            plan = store.plan(scenario.name)
            print(f"{scenario.name}: {'wrote ' + str(written) if written else 'unchanged ' + str(plan.path)}")
            failed += written is None and plan.record and not plan.path.exists()
    return 1 if failed else 0


def _compare(args: argparse.Namespace) -> int:
    from harness.recording.compare import Tolerance
    from harness.recording.scenario_recording import compare_with_golden

    scenarios = _scenarios(args)
    store = _store(args, "none")
    tolerance = Tolerance(payloads=args.payloads)
    differing = 0
    with _broker(args) as broker:
        for scenario in scenarios:
            result = compare_with_golden(store, scenario, broker, tolerance=tolerance, log=log)
            print(result.report())
            differing += not result.ok
    return 1 if differing else 0


def _diff(args: argparse.Namespace) -> int:
    from harness.recording.compare import Tolerance, compare_recordings

    result = compare_recordings(args.golden, args.run, tolerance=Tolerance(rate=args.rate_tolerance,
                                                                           payloads=args.payloads))
    print(result.report())
    return 0 if result.ok else 1
