"""``donki COMMAND`` builds only that command's parser: the map of modules to commands must be exact."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from harness.cli.main import COMMANDS, build_parser


def _registered(module: str) -> tuple[str, ...]:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    importlib.import_module(module).register(subparsers)
    return tuple(sorted(subparsers.choices))


def test_every_module_registers_exactly_the_commands_it_is_listed_with():
    for module, names in COMMANDS.items():
        assert _registered(module) == tuple(sorted(names)), module


def test_a_named_command_gets_a_parser_with_only_that_command_and_others_get_all():
    def commands(parser: argparse.ArgumentParser) -> set[str]:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return set(action.choices)

    every = {name for names in COMMANDS.values() for name in names}
    assert commands(build_parser("record")) == {"record"}
    assert commands(build_parser("director")) == {"curve-keys", "director", "player"}
    assert commands(build_parser(None)) == every
    assert commands(build_parser("--help")) == every
    assert commands(build_parser("recrod")) == every  # a typo still gets the suggestion from every command


def test_donki_record_does_not_import_the_other_commands_modules():
    code = ("import sys\nfrom harness.cli.main import main\n"
            "try:\n    main(['record', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('harness.cli.') and m.endswith('_cmd')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip().splitlines()[-1] == "['harness.cli.record_cmd']"
    assert "--until-end" in result.stdout
