"""An ``argparse`` parser that guides: "did you mean" for misspelt options, commands and choices.

Python 3.11's argparse reports an unknown option of a subcommand with the top-level usage
and no hint (``donki run e-mixed --duraton 3``: "unrecognized arguments"). :func:`parse`
finds the subcommand's own parser, names the close options and exits 2 with its usage.
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Iterable, Sequence
from typing import NoReturn

__all__ = ["GuidingParser", "parse", "remember_parsers", "suggest"]

PARSER_KEY = "_donki_parser"
_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)")


def suggest(given: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``given``, if one is close enough to be a likely typo."""
    close = difflib.get_close_matches(given, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


class GuidingParser(argparse.ArgumentParser):
    """Adds "did you mean ...?" to invalid-choice errors (subcommands, ``--kafka`` values...)."""

    def error(self, message: str) -> NoReturn:
        match = _CHOICE.search(message)
        if match:
            choices = [c.strip(" '") for c in match.group("choices").split(",")]
            close = suggest(match.group("given"), choices)
            if close:
                message += f"; did you mean {close!r}?"
        super().error(message)


def remember_parsers(parser: argparse.ArgumentParser) -> None:
    """Let every (sub)command's namespace name its own parser, for errors after parsing."""
    parser.set_defaults(**{PARSER_KEY: parser})
    for action in parser._actions:  # argparse keeps subparsers there; no public accessor
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                remember_parsers(sub)


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [s for a in parser._actions for s in a.option_strings if s.startswith("--")]


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv``; unknown options are reported by the subcommand that got them, with a suggestion."""
    args, extras = parser.parse_known_args(argv)
    if not extras:
        return args
    owner: argparse.ArgumentParser = getattr(args, PARSER_KEY, parser)
    hints = []
    for token in extras:
        name = token.split("=", 1)[0]
        close = suggest(name, _options(owner)) if name.startswith("-") else None
        if close:
            hints.append(f"{name}: did you mean {close}?")
    message = f"unrecognized arguments: {' '.join(extras)}"
    owner.error(message + ("; " + "; ".join(hints) if hints else f"; see {owner.prog} --help"))
