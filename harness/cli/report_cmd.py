"""``donki report DIR`` and ``donki report --compare DIR_A DIR_B``: report directories after the fact."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.output import log

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report", help="draw a report directory's figures again, or compare two report directories",
        description="Re-render the figures (PNG and SVG) of every run report JSON in DIR, as written by "
                    "`pytest --donki-report DIR`; with --compare, pair the runs of two directories by test id "
                    "and show which check changed, with both figures side by side. Exits 1 when a check changed.")
    parser.add_argument("directory", metavar="DIR", nargs="?", type=Path, help="a report directory")
    parser.add_argument("--compare", nargs=2, metavar=("DIR_A", "DIR_B"), type=Path,
                        help="compare the reports of two directories")
    parser.add_argument("--output", "-o", type=Path, default=Path("donki-compare"), metavar="DIR",
                        help="where --compare writes its side-by-side figures (default: %(default)s)")
    parser.set_defaults(func=_report, parser=parser)


def _report(args: argparse.Namespace) -> int:
    if (args.directory is None) == (args.compare is None):
        args.parser.error("give a report directory DIR, or --compare DIR_A DIR_B")
    if args.compare:
        return _compare(*args.compare, output=args.output)
    from harness.reporting import render_directory

    for path in render_directory(args.directory):
        print(path)
    return 0


def _compare(dir_a: Path, dir_b: Path, *, output: Path) -> int:
    from harness.cli.main import EXIT_FAILED
    from harness.cli.output import console, print_table
    from harness.reporting.compare import compare_directories, comparison_table, side_by_side

    comparisons = compare_directories(dir_a, dir_b)
    out = console()
    for comparison in comparisons:
        print_table(comparison_table(comparison))
        figure = side_by_side(comparison, output)
        changed = ", ".join(f"{c.name} {_word(c.a)} -> {_word(c.b)}" for c in comparison.changed)
        out.print(f"{comparison.key}: {'checks changed: ' + changed if changed else 'no check changed'}; "
                  f"figures side by side: {figure}", highlight=False, soft_wrap=True)
    runs_changed = sum(bool(c.changed) for c in comparisons)
    log(f"{len(comparisons)} run(s) compared, {runs_changed} with a changed check")
    return EXIT_FAILED if runs_changed else 0


def _word(value: bool | None) -> str:
    return "missing" if value is None else ("passed" if value else "FAILED")
