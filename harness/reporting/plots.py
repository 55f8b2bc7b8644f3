"""One figure per scenario run (matplotlib): did it pass, and why.

Top to bottom: a header (verdict, test id, scenario, per-check verdicts, date, broker,
versions) on a green or red band with a frame of the same colour, so a failed run is
told from a passed one at a glance; one panel per rated stream with its rate over the
whole run on a linear axis, the nominal rate, its tolerance band and the windows outside
it shaded red; the unrated streams listed; the ack latency per level as a CDF with p50
and p99 marked. Axes carry labels (``header``, ``rate:<stream>``, ``latency``) that tests
and callers can find them by.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError
from harness.reporting.model import UNRATED_BELOW, RunReport
from harness.reporting.series import out_of_band, percentiles, rate_series

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FAIL", "PASS", "build_figure", "rate_series", "rated_streams", "save_figure", "unrated_streams"]

PASS, FAIL = "#1a7f37", "#cf222e"
PASS_BG, FAIL_BG = "#dafbe1", "#ffebe9"
BAND = "#2da44e"
WIDTH_IN, HEADER_IN, RATE_IN, LATENCY_IN = 11.0, 1.9, 1.5, 2.6
VERSIONS_SHOWN = ("pytest-donki", "python", "confluent-kafka", "librdkafka", "ess-streaming-data-types")


def _figure_class() -> type[Figure]:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ConfigError("report plots need matplotlib: pip install 'pytest-donki[report]'") from None
    return Figure


def unrated_streams(report: RunReport) -> dict[str, str]:
    """Streams not drawn on a rate axis, with why (too few messages, or no rate of their own)."""
    named = set(report.checks.get("rates", {}).get("metrics", {}).get("unrated", []))
    series = report.series()
    out = {}
    for row in report.rows:
        if row.messages < UNRATED_BELOW:
            out[row.stream] = f"{row.messages} message(s)"
        elif row.stream in named or row.stream not in series:
            out[row.stream] = "no rate of its own"
    return out


def rated_streams(report: RunReport) -> list[str]:
    """The streams with a rate panel, in the order of the table."""
    series, unrated = report.series(), unrated_streams(report)
    ordered = [r.stream for r in report.rows] + sorted(set(series) - {r.stream for r in report.rows})
    return [s for s in dict.fromkeys(ordered) if s in series and s not in unrated]


def build_figure(report: RunReport) -> Figure:
    """The run's figure (not saved; see :func:`save_figure`)."""
    streams = rated_streams(report)
    panels = max(1, len(streams))
    heights = [HEADER_IN] + [RATE_IN] * panels + [LATENCY_IN]
    colour = PASS if report.ok else FAIL
    total = sum(heights) + 0.45 * len(heights)  # panels plus room for their titles and axis labels
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    fig = _figure_class()(figsize=(WIDTH_IN, total), edgecolor=colour, linewidth=10,
                          layout=ConstrainedLayoutEngine(h_pad=0.12, w_pad=0.15))
    grid = fig.add_gridspec(len(heights), 1, height_ratios=heights)
    _header(fig.add_subplot(grid[0]), report)
    first: Axes | None = None
    for i, stream in enumerate(streams):
        ax = fig.add_subplot(grid[1 + i], sharex=first)
        first = first or ax
        _rate_panel(ax, report, stream, last=i == len(streams) - 1)
    if not streams:
        _no_rates(fig.add_subplot(grid[1]), report)
    _latency_panel(fig.add_subplot(grid[-1]), report)
    return fig


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """Write ``<stem>.png`` and ``<stem>.svg``; returns both paths."""
    written = []
    for suffix in (".png", ".svg"):
        path = stem.with_name(stem.name + suffix)
        fig.savefig(path, dpi=100, edgecolor=fig.get_edgecolor())
        written.append(path)
    return written


def _header(ax: Axes, report: RunReport) -> None:
    from matplotlib.patches import Rectangle

    ax.set_label("header")
    ax.set_axis_off()
    ok = report.ok
    ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, color=PASS_BG if ok else FAIL_BG, zorder=0,
                           gid="verdict-band"))
    verdict = "PASSED" if ok else "FAILED"
    ax.text(0.01, 0.86, verdict, transform=ax.transAxes, fontsize=20, fontweight="bold",
            color=PASS if ok else FAIL, va="center")
    ax.text(0.16, 0.86, f"scenario {report.scenario}", transform=ax.transAxes, fontsize=14, va="center")
    ax.text(0.01, 0.62, f"test: {report.test_id or '-'}", transform=ax.transAxes, fontsize=9, va="center",
            family="monospace")
    ax.text(0.01, 0.45, f"date: {report.date}    broker: {_broker(report)}", transform=ax.transAxes, fontsize=9,
            va="center")
    versions = "  ".join(f"{k} {report.versions[k]}" for k in VERSIONS_SHOWN if k in report.versions)
    ax.text(0.01, 0.29, f"versions: {versions or '-'}", transform=ax.transAxes, fontsize=8, va="center",
            color="#57606a")
    x = 0.01
    for name, passed in report.verdicts.items():
        label = f"{'✓' if passed else '✗'} {name}"
        ax.text(x, 0.09, label, transform=ax.transAxes, fontsize=10, va="center", color="white", gid=f"check:{name}",
                fontweight="bold", bbox={"boxstyle": "round,pad=0.3", "fc": PASS if passed else FAIL, "ec": "none"})
        x += 0.025 + 0.0085 * len(label)


def _broker(report: RunReport) -> str:
    b = report.broker
    if not b:
        return "-"
    extra = ", ".join(str(b[k]) for k in ("kind", "kafka") if b.get(k))
    return f"{b.get('bootstrap', '-')}" + (f" ({extra})" if extra else "")


def _band(figures: dict[str, Any], nominal: float) -> tuple[float, str] | None:
    """The half-width (relative) of the band the rates check judged by, and its legend label.

    The check allows ``tolerance * nominal`` plus a jitter allowance (``bound_hz``); older
    reports carry the tolerance alone.
    """
    tolerance = figures.get("tolerance")
    bound = figures.get("bound_hz")
    if bound is not None and nominal > 0:
        extra = "" if tolerance is None else f" = {tolerance:.0%} + jitter"
        return bound / nominal, f"verdict band ±{bound / nominal:.0%}{extra}"
    if tolerance is not None:
        return tolerance, f"nominal ±{tolerance:.0%}"
    return None


def _rate_panel(ax: Axes, report: RunReport, stream: str, *, last: bool) -> None:
    ax.set_label(f"rate:{stream}")
    data = report.series()[stream]
    t, hz = data["t"], data["hz"]
    window = (data.get("window_s") or [0.0])[0]
    figures = report.rate_of(stream)
    row = next((r for r in report.rows if r.stream == stream), None)
    nominal = figures.get("nominal_hz") or (row.nominal_hz if row else None)
    failed = stream in report.failed_streams()
    top = max(hz, default=0.0)
    band = _band(figures, nominal) if nominal else None
    if nominal and band is not None:
        width, label = band
        ax.axhspan(nominal * (1 - width), nominal * (1 + width), color=BAND, alpha=0.15, lw=0, label=label)
        top = max(top, nominal * (1 + width))
        for i in out_of_band(hz, nominal, width):
            ax.axvspan(t[i] - window / 2, t[i] + window / 2, color=FAIL, alpha=0.18, lw=0, gid="failed-window")
    if nominal:
        ax.axhline(nominal, color=BAND, linestyle="--", linewidth=1.2, label=f"nominal {nominal:g} Hz")
        top = max(top, nominal)
    ax.plot(t, hz, marker="o", markersize=3, color="#0969da", linewidth=1.4, label="achieved")
    ax.set_ylim(0, top * 1.15 if top > 0 else 1)
    ax.set_xlim(left=0)
    achieved = figures.get("achieved_hz") or (row.achieved_hz if row else None)
    verdict = ("FAIL" if failed else "ok") if figures else "-"
    ax.set_title(f"{stream}: {_hz(achieved)} achieved, nominal {_hz(nominal)}  [{verdict}]", loc="left", fontsize=10,
                 color=FAIL if failed else "black", fontweight="bold" if failed else "normal")
    ax.set_ylabel("triggers/s")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right", ncols=3)
    if last:
        ax.set_xlabel("time since the run's first trigger (s)")
        _unrated_note(ax, report)


def _hz(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g} Hz"


def _unrated_note(ax: Axes, report: RunReport) -> None:
    unrated = unrated_streams(report)
    if unrated:
        text = "not rated: " + ", ".join(f"{s} ({why})" for s, why in unrated.items())
        ax.annotate(text, (0, 0), xycoords="axes fraction", xytext=(0, -34), textcoords="offset points",
                    fontsize=8, color="#57606a", gid="unrated")


def _no_rates(ax: Axes, report: RunReport) -> None:
    ax.set_label("rate:none")
    ax.set_axis_off()
    unrated = unrated_streams(report)
    text = "no stream with a rate to plot"
    if unrated:
        text += "; not rated: " + ", ".join(f"{s} ({why})" for s, why in unrated.items())
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=10, gid="unrated")


def _latency_panel(ax: Axes, report: RunReport) -> None:
    ax.set_label("latency")
    ax.set_title("trigger-to-ack latency per level (CDF; ● p50, ▲ p99)", loc="left", fontsize=10)
    drawn = False
    for player, values in sorted(report.ack_latencies_s.items(), key=lambda kv: (report.levels.get(kv[0], 0), kv[0])):
        if not values:
            continue
        ms = sorted(v * 1e3 for v in values)
        cdf = [0.0] + [(i + 1) / len(ms) for i in range(len(ms))]  # from 0 at the fastest ack
        ms = [ms[0], *ms]
        p50, p99 = percentiles(ms[1:])
        level = report.levels.get(player)
        name = f"level {level} · {player}" if level is not None else player
        line, = ax.step(ms, cdf, where="post", linewidth=1.6,
                        label=f"{name}: p50 {p50:.3g} ms, p99 {p99:.3g} ms ({len(values)} acks)")
        ax.plot([p50], [0.5], "o", color=line.get_color(), markersize=7, gid=f"p50:{player}")
        ax.plot([p99], [0.99], "^", color=line.get_color(), markersize=8, gid=f"p99:{player}")
        drawn = True
    ax.set_xlabel("ack latency (ms)")
    ax.set_ylabel("fraction of acks")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    if drawn:
        ax.legend(fontsize=8, loc="lower right")
    else:
        ax.text(0.5, 0.5, "no acks recorded", ha="center", va="center", transform=ax.transAxes)
