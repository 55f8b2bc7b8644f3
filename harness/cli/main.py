"""Entry point of ``donki``: builds the parser from the subcommand modules."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from harness import __version__
from harness.errors import DonkiError
from harness.runs import settings as _settings  # noqa: F401 - registers every setting the commands resolve

__all__ = ["main", "build_parser", "COMMANDS", "EXIT_FAILED", "EXIT_ERROR"]

#: Subcommand modules; each has ``register(subparsers)`` which sets ``func`` on its parser.
COMMANDS = (
    "harness.cli.kafka_cmd",
    "harness.cli.orchestra_cmd",
    "harness.cli.scenarios_cmd",
    "harness.cli.run_cmd",
    "harness.cli.record_cmd",
    "harness.cli.inspect_cmd",
    "harness.cli.replay_cmd",
    "harness.cli.golden_cmd",
)

EXIT_FAILED = 1  # the thing ran and failed (a run missed acks, a comparison differed)
EXIT_ERROR = 2  # bad input or environment: a DonkiError or a usage error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="donki",
        description="Record, replay and run ESS-like Kafka data-stream scenarios (pytest-donki).",
    )
    parser.add_argument("--version", action="version", version=f"pytest-donki {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a usage error (bad value: exit 2) or --help/--version (0), as a return code
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    previous = _on_sigterm(_interrupt)  # SIGTERM ends a command as Ctrl-C does, cleanup included
    try:
        return int(args.func(args) or 0)
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


if __name__ == "__main__":
    sys.exit(main())
