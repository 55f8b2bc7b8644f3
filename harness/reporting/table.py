"""The per-stream summary table, as plain text for terminals and logs."""

from __future__ import annotations

from collections.abc import Sequence

from harness.reporting.model import RunReport, StreamRow

__all__ = ["render_table", "render_run", "render_line", "verdict"]

HEADERS = ("stream", "player", "messages", "MB", "rate Hz (nominal)", "ack p99 ms", "integrity")


def _cells(row: StreamRow) -> tuple[str, ...]:
    achieved = "-" if row.achieved_hz is None else f"{row.achieved_hz:.3g}"
    p99 = "-" if row.ack_p99_s is None else f"{row.ack_p99_s * 1e3:.2f}"
    return (row.stream, row.player, str(row.messages), f"{row.bytes / 1e6:.2f}",
            f"{achieved} ({row.nominal_hz:g})", p99, row.integrity)


def render_table(rows: Sequence[StreamRow]) -> str:
    """Aligned columns; numbers right-aligned."""
    table = [HEADERS, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    numeric = {2, 3, 4, 5}
    lines = []
    for n, line in enumerate(table):
        cells = [c.rjust(w) if i in numeric and n else c.ljust(w)
                 for i, (c, w) in enumerate(zip(line, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


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
    lines = [f"donki scenario {report.scenario}: {verdict(report, test_passed)}", render_table(report.rows)]
    for name, check in report.checks.items():
        state = "ok" if check.get("passed") else f"{len(check.get('findings', []))} problem(s)"
        first = check.get("findings") or []
        lines.append(f"  {name:<10} {state}" + (f": {first[0]['message']}" if first else ""))
        lines += [f"  {'':<10} {note}" for note in str(check.get("note") or "").splitlines()]
    if report.golden:
        lines.append(f"  golden recording {report.golden.get('action')}: {report.golden.get('path') or '-'}")
    if report.recording:
        lines.append(f"  run recording {report.recording}")
    return "\n".join(lines)
