"""Two report directories side by side: which check changed, and how the figures moved."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.reporting.files import read_report, report_files, slug
from harness.reporting.model import RunReport

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "CheckChange",
    "RunComparison",
    "compare_directories",
    "compare_reports",
    "comparison_table",
    "side_by_side",
]


@dataclass(frozen=True)
class CheckChange:
    """A check's verdict in run A and run B (``None``: the run has no such check)."""

    name: str
    a: bool | None
    b: bool | None

    @property
    def changed(self) -> bool:
        return self.a != self.b


@dataclass
class RunComparison:
    """One test's report in directory A against the same test's in B."""

    key: str
    a: RunReport | None
    b: RunReport | None
    checks: list[CheckChange] = field(default_factory=list)
    figures: list[tuple[str, float | None, float | None]] = field(default_factory=list)  # (what, A, B)

    @property
    def changed(self) -> list[CheckChange]:
        return [c for c in self.checks if c.changed]


def _figures(report: RunReport | None) -> dict[str, float]:
    if report is None:
        return {}
    out = {}
    for row in report.rows:
        if row.achieved_hz is not None:
            out[f"{row.stream} rate Hz"] = row.achieved_hz
        if row.ack_p99_s is not None:
            out[f"{row.stream} ack p99 ms"] = row.ack_p99_s * 1e3
        out[f"{row.stream} messages"] = float(row.messages)
    return out


def compare_reports(key: str, a: RunReport | None, b: RunReport | None) -> RunComparison:
    """Check verdicts and per-stream figures of ``a`` and ``b`` (either may be missing)."""
    va, vb = (a.verdicts if a else {}), (b.verdicts if b else {})
    checks = [CheckChange(name, va.get(name), vb.get(name)) for name in dict.fromkeys([*va, *vb])]
    fa, fb = _figures(a), _figures(b)
    figures = [(name, fa.get(name), fb.get(name)) for name in dict.fromkeys([*fa, *fb])]
    return RunComparison(key, a, b, checks, figures)


def _by_key(directory: Path) -> dict[str, tuple[Path, RunReport]]:
    out = {}
    for path in report_files(directory):
        report = read_report(path)
        out[report.test_id or path.stem] = (path, report)
    return out


def compare_directories(dir_a: Path, dir_b: Path) -> list[RunComparison]:
    """Pair the reports of two directories by test id (else file name) and compare each pair."""
    a, b = _by_key(Path(dir_a)), _by_key(Path(dir_b))
    return [compare_reports(key, a[key][1] if key in a else None, b[key][1] if key in b else None)
            for key in dict.fromkeys([*a, *b])]


def _verdict(value: bool | None) -> str:
    return "-" if value is None else ("[green]passed[/green]" if value else "[red]FAILED[/red]")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def comparison_table(comparison: RunComparison) -> Table:
    """Checks first (changed ones marked), then the per-stream figures with their change."""
    from rich import box
    from rich.table import Table

    table = Table("", "A", "B", "change", title=comparison.key, box=box.SIMPLE_HEAD, title_justify="left")
    for c in comparison.checks:
        table.add_row(f"check {c.name}", _verdict(c.a), _verdict(c.b), "[bold]CHANGED[/bold]" if c.changed else "")
    for name, a, b in comparison.figures:
        change = "" if a is None or b is None or a == 0 else f"{(b - a) / a:+.1%}"
        table.add_row(name, _number(a), _number(b), change)
    return table


def side_by_side(comparison: RunComparison, directory: Path) -> Path:
    """Both runs' figures, A left and B right, drawn again from their reports, as
    ``compare-<key>.png`` in ``directory``."""
    import io

    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    from harness.reporting.plots import build_figure

    images: list[np.ndarray | None] = []
    for report in (comparison.a, comparison.b):
        if report is None:
            images.append(None)
            continue
        figure, buffer = build_figure(report), io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100, edgecolor=figure.get_edgecolor())
        buffer.seek(0)
        images.append(np.asarray(imread(buffer)))
    height = max(img.shape[0] for img in images if img is not None) / 100
    out = Figure(figsize=(22, height + 0.5))
    for i, (img, side) in enumerate(zip(images, "AB", strict=True)):
        ax = out.add_subplot(1, 2, i + 1)
        ax.set_axis_off()
        ax.set_title(f"{side}", fontsize=16, loc="left")
        if img is None:
            ax.text(0.5, 0.5, f"no report for {comparison.key} in {side}", ha="center", transform=ax.transAxes)
        else:
            ax.imshow(img)
    out.subplots_adjust(left=0.005, right=0.995, top=0.97, bottom=0.005, wspace=0.02)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"compare-{slug(comparison.key)}.png"
    out.savefig(path, dpi=100)
    return path
