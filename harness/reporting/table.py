"""The per-stream summary table (rich), as text for terminals, logs and HTML reports."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.reporting.model import RunReport, StreamRow

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["HEADERS", "check_lines", "render_line", "render_run", "render_table", "stream_table", "to_html", "to_text",
           "verdict"]

HEADERS = ("stream", "player", "messages", "MB", "rate Hz (nominal)", "ack p99 ms", "integrity")
NUMERIC = {"messages", "MB", "rate Hz (nominal)", "ack p99 ms"}
TEXT_WIDTH = 120


def _cells(row: StreamRow) -> tuple[str, ...]:
    achieved = "-" if row.achieved_hz is None else f"{row.achieved_hz:.3g}"
    p99 = "-" if row.ack_p99_s is None else f"{row.ack_p99_s * 1e3:.2f}"
    return (row.stream, row.player, str(row.messages), f"{row.bytes / 1e6:.2f}",
            f"{achieved} ({row.nominal_hz:g})", p99, row.integrity)


def stream_table(rows: Sequence[StreamRow], title: str | None = None) -> Table:
    """The rows as a rich table; a problem in the integrity column is shown in red."""
    from rich import box
    from rich.table import Table

    table = Table(*HEADERS, title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for column in table.columns:
        if column.header in NUMERIC:
            column.justify = "right"
    for row in rows:
        cells = list(_cells(row))
        if row.integrity != "ok":
            cells[-1] = f"[red]{cells[-1]}[/red]"
        table.add_row(*cells)
    return table


def to_text(renderable: object, width: int = TEXT_WIDTH) -> str:
    """A rich renderable as plain text (no colour codes), lines right-stripped."""
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, force_terminal=False, legacy_windows=False).print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()).strip("\n")


def to_html(renderable: object, width: int = TEXT_WIDTH) -> str:
    """A rich renderable as an HTML ``<pre>`` fragment with inline colours."""
    from rich.console import Console

    console = Console(record=True, file=io.StringIO(), width=width, force_terminal=True, color_system="truecolor")
    console.print(renderable)
    return console.export_html(inline_styles=True, code_format='<pre class="donki-table">{code}</pre>')


def render_table(rows: Sequence[StreamRow]) -> str:
    """The table as aligned plain text; numbers right-aligned."""
    return to_text(stream_table(rows))


def check_lines(report: RunReport) -> list[str]:
    """One line per check (verdict and first finding), then golden and recording."""
    lines = []
    for name, check in report.checks.items():
        problems = len(check.get("findings", [])) + check.get("omitted", 0)
        state = "ok" if check.get("passed") else f"{problems} problem(s)"
        first = check.get("findings") or []
        lines.append(f"  {name:<10} {state}" + (f": {first[0]['message']}" if first else ""))
        lines += [f"  {'':<10} {note}" for note in str(check.get("note") or "").splitlines()]
    if report.golden:
        lines.append(f"  golden recording {report.golden.get('action')}: {report.golden.get('path') or '-'}")
    if report.recording:
        lines.append(f"  run recording {report.recording}")
    return lines


def verdict(report: RunReport, test_passed: bool | None = None) -> str:
    """``passed``, ``FAILED``, or, when the checks failed in a test that passed (it asserted the
    failure), ``checks failed, as the test expected``."""
    if report.ok:
        return "passed"
    return "checks failed, as the test expected" if test_passed else "FAILED"


def render_line(report: RunReport, test_passed: bool | None = None) -> str:
    """One line: the verdict, the messages and the failed checks."""
    failed = [name for name, check in report.checks.items() if not check.get("passed")]
    messages = sum(row.messages for row in report.rows)
    detail = f"{messages} messages, {len(report.checks) - len(failed)} of {len(report.checks)} checks ok"
    if failed:
        detail += f" (failed: {', '.join(failed)})"
    return f"donki scenario {report.scenario}: {verdict(report, test_passed)}; {detail}"


def render_run(report: RunReport, test_passed: bool | None = None) -> str:
    """Title line, the table, and one line per check."""
    return "\n".join([f"donki scenario {report.scenario}: {verdict(report, test_passed)}", render_table(report.rows),
                      *check_lines(report)])
