"""Entry point of ``donki``: builds the parser from the subcommand modules."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from harness import __version__
from harness.cli.guide import GuidingParser, parse, remember_parsers
from harness.errors import DonkiError
from harness.runs import settings as _settings  # noqa: F401 - registers every setting the commands resolve

__all__ = ["COMMANDS", "EXIT_ERROR", "EXIT_FAILED", "build_parser", "main"]

#: Subcommand modules and the subcommands each registers; each has ``register(subparsers)``
#: which sets ``func`` on its parser. A command line that names one of these subcommands
#: imports only its module: ``donki record`` starts without the orchestra, replayer and
#: reader imports of the others (about half its start-up time).
COMMANDS = {
    "harness.cli.kafka_cmd": ("kafka",),
    "harness.cli.orchestra_cmd": ("curve-keys", "director", "player"),
    "harness.cli.scenarios_cmd": ("scenarios",),
    "harness.cli.run_cmd": ("run",),
    "harness.cli.record_cmd": ("record",),
    "harness.cli.inspect_cmd": ("inspect",),
    "harness.cli.replay_cmd": ("replay",),
    "harness.cli.golden_cmd": ("golden",),
    "harness.cli.report_cmd": ("report",),
    "harness.cli.writer_cmd": ("writer",),
}

EXIT_FAILED = 1  # the thing ran and failed (a run missed acks, a comparison differed)
EXIT_ERROR = 2  # bad input or environment: a DonkiError or a usage error
EXIT_PIPE = 141  # stdout was closed early (`donki scenarios --kinds | head`): 128 + SIGPIPE, as a shell reports it


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``donki`` parser: with only ``command``'s subparser if it names one, else with all."""
    modules = [module for module, names in COMMANDS.items() if command in names] or list(COMMANDS)
    parser = GuidingParser(
        prog="donki",
        description="Record, replay and run ESS-like Kafka data-stream scenarios (pytest-donki).",
    )
    parser.add_argument("--version", action="version", version=f"pytest-donki {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=GuidingParser)
    for module in modules:
        importlib.import_module(module).register(subparsers)
    remember_parsers(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(words[0] if words else None)
    try:
        args = parse(parser, argv)
    except SystemExit as exc:  # a usage error (bad value: exit 2) or --help/--version (0), as a return code
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    previous = _on_sigterm(_interrupt)  # SIGTERM ends a command as Ctrl-C does, cleanup included
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        _drop_stdout()
        return EXIT_PIPE
    except DonkiError as exc:
        print(f"donki {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"donki {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        _on_sigterm(previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _on_sigterm(handler: Any) -> Any:
    """Install ``handler`` for SIGTERM (commands with their own replace it); returns the previous one."""
    if handler is None or threading.current_thread() is not threading.main_thread():
        return None  # only the main thread may set handlers (main() called from a test's thread)
    return signal.signal(signal.SIGTERM, handler)


def _drop_stdout() -> None:
    """The reader of stdout went away: point stdout at /dev/null so the exit flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
