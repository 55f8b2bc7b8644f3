"""``donki golden record|compare|diff``: golden recordings of scenarios, and comparisons."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from harness import validate as v
from harness.cli.output import log

if TYPE_CHECKING:
    from harness.kafka import Broker
    from harness.recording.golden.store import GoldenStore
    from harness.scenarios import Scenario

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from harness.recording.golden.modes import RecordMode
    from harness.recording.golden.payloads import PAYLOAD_MODES

    golden = subparsers.add_parser("golden", help="record scenarios as golden recordings and compare runs with them")
    sub = golden.add_subparsers(dest="golden_command", metavar="ACTION", required=True)

    record = sub.add_parser("record", help="run scenarios (their short CI variant) and record golden recordings",
                            description="Run each scenario and write its golden recording into the project's "
                                        "directory (--dir) as --mode says (default once: only missing ones; a "
                                        "built-in's packaged golden counts as present). An incomplete run writes "
                                        "nothing.")
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
    parser.add_argument("--dir", default=None, help="the project's golden recordings directory (default: "
                                                    "$DONKI_RECORDINGS or recordings); a built-in scenario it lacks "
                                                    "is compared with its packaged golden recording")
    parser.add_argument("--packaged", action="store_true",
                        help="use the built-ins' packaged golden recordings only (harness/scenarios/goldens; for "
                             "maintainers after changing a built-in scenario)")
    parser.add_argument("--bootstrap", "-b", default=None, help="Kafka cluster (default: start a local broker)")


def _scenarios(args: argparse.Namespace) -> list[Scenario]:
    from harness.errors import ConfigError
    from harness.runs import golden_variant
    from harness.scenarios import builtin_names

    names = builtin_names() if args.all else args.scenarios
    if not names:
        raise ConfigError("name one or more scenarios, or pass --all for every built-in")
    return [golden_variant(name) for name in names]


def _store(args: argparse.Namespace, mode: str) -> GoldenStore:
    from harness.config import resolve
    from harness.errors import ConfigError
    from harness.recording.golden.store import GoldenStore
    from harness.scenarios.goldens import packaged_goldens_dir

    if args.packaged:
        if args.dir is not None:
            raise ConfigError(f"--packaged and --dir {args.dir} both name the golden directory; give one of them")
        return GoldenStore(packaged_goldens_dir(), mode, fallback=None)
    return GoldenStore(resolve("recordings", option=args.dir), mode)


def _broker(args: argparse.Namespace) -> Broker:
    from harness.config import resolve
    from harness.kafka import make_broker

    return make_broker(resolve("kafka"), bootstrap=resolve("bootstrap", option=args.bootstrap), log=log)


def _record(args: argparse.Namespace) -> int:
    import tempfile

    from harness.checks.config import ChecksConfig
    from harness.runs import GoldenRequest, RunRequest, SizedScenario, record_golden

    scenarios = _scenarios(args)
    store = _store(args, args.mode)
    failed = 0
    with _broker(args) as broker, tempfile.TemporaryDirectory() as tmp:
        for scenario in scenarios:
            written = record_golden(RunRequest(SizedScenario.as_given(scenario), broker, workdir=Path(tmp),
                                               golden=GoldenRequest(store, scenario.name),
                                               checks=ChecksConfig.only("golden"), log=log))
            plan = store.plan(scenario.name)
            print(f"{scenario.name}: {'wrote ' + str(written) if written else 'unchanged ' + str(plan.golden_path)}")
            failed += written is None and plan.record and not plan.path.exists()
    return 1 if failed else 0


def _compare(args: argparse.Namespace) -> int:
    import tempfile

    from harness.checks.config import ChecksConfig
    from harness.recording.golden.compare import Tolerance
    from harness.runs import GoldenRequest, RunRequest, SizedScenario, compare_golden

    scenarios = _scenarios(args)
    store = _store(args, "none")
    tolerance = Tolerance(payloads=args.payloads)
    differing = 0
    with _broker(args) as broker, tempfile.TemporaryDirectory() as tmp:
        for scenario in scenarios:
            result = compare_golden(RunRequest(SizedScenario.as_given(scenario), broker, workdir=Path(tmp),
                                               golden=GoldenRequest(store, scenario.name),
                                               checks=ChecksConfig.only("golden"),
                                               tolerance=tolerance, log=log))
            print(result.report(accept=None))  # the run's recording goes with the temporary directory
            if not result.ok:
                print(f"to accept the run as the new golden recording: donki golden record {scenario.name} "
                      f"--mode rewrite{' --packaged' if args.packaged else ''}")
            differing += not result.ok
    return 1 if differing else 0


def _diff(args: argparse.Namespace) -> int:
    from harness.recording.golden.compare import Tolerance, compare_recordings

    result = compare_recordings(args.golden, args.run, tolerance=Tolerance(rate=args.rate_tolerance,
                                                                           payloads=args.payloads))
    print(result.report(accept=None))
    return 0 if result.ok else 1
