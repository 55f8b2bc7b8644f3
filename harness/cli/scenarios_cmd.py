"""``donki scenarios``: the built-in scenarios, their files, and the stream kinds."""

from __future__ import annotations

import argparse
import json

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("scenarios", help="list the built-in scenarios (and stream kinds)",
                                   description="List the built-in scenarios with a one-line description.")
    parser.add_argument("--kinds", action="store_true", help="list the stream kinds and their parameters instead")
    parser.add_argument("--show", metavar="SCENARIO", help="print a scenario as TOML (a start for your own file)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=_scenarios)


def _scenarios(args: argparse.Namespace) -> int:
    if args.show:
        return _show(args.show)
    if args.kinds:
        return _kinds(args.json)
    from harness.scenarios import builtin_scenarios

    scenarios = builtin_scenarios()
    if args.json:
        print(json.dumps({name: {"description": s.description, "rate_hz": s.rate_hz, "triggers": s.triggers,
                                 "ci_triggers": s.ci().triggers, "players": [p.name for p in s.players]}
                          for name, s in scenarios.items()}, indent=2))
        return 0
    width = max(map(len, scenarios))
    for name, scenario in scenarios.items():
        print(f"{name:<{width}}  {scenario.description}")
    return 0


def _kinds(as_json: bool) -> int:
    from harness.scenarios import stream_kinds

    kinds = stream_kinds()
    if as_json:
        print(json.dumps({name: {"description": k.description, "schemas": list(k.schemas),
                                 "params": [p.describe() for p in k.params]} for name, k in kinds.items()}, indent=2))
        return 0
    for name, kind in kinds.items():
        print(f"{name}: {kind.description}")
        for param in kind.params:
            print(f"    {param.describe()}")
    return 0


def _show(ref: str) -> int:
    from importlib import resources
    from pathlib import Path

    from harness.scenarios import load_scenario
    from harness.scenarios.loader import BUILTIN_PACKAGE

    load_scenario(ref)  # a clear error for an unknown name or a bad file
    builtin = resources.files(BUILTIN_PACKAGE).joinpath(f"{ref}.toml")
    text = Path(ref).read_text() if Path(ref).is_file() else builtin.read_text(encoding="utf-8")
    print(text, end="")
    return 0
