"""PNG plots of a run: rate over time per stream, ack latency histogram (matplotlib)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from types import ModuleType

from harness.errors import ConfigError
from harness.reporting.model import RunReport

__all__ = ["rate_series", "plot_rates", "plot_ack_latency"]

RATE_WINDOW_S = 1.0


def rate_series(times: list[float], window_s: float = RATE_WINDOW_S) -> tuple[list[float], list[float]]:
    """Rate in consecutive windows: intervals ending in a window divided by their total length.

    Returns (window centres relative to the first trigger, rates in Hz); windows without an
    interval are left out, so a slow stream is not drawn as dropping to zero.
    """
    if len(times) < 2:
        return [], []
    start = times[0]
    sums: dict[int, list[float]] = {}
    for previous, current in pairwise(times):
        index = int((current - start) // window_s)
        total = sums.setdefault(index, [0, 0.0])
        total[0] += 1
        total[1] += current - previous
    centres = [window_s * (i + 0.5) for i in sorted(sums)]
    rates = [sums[i][0] / sums[i][1] if sums[i][1] > 0 else float("nan") for i in sorted(sums)]
    return centres, rates


def _pyplot() -> ModuleType:
    try:
        import matplotlib
    except ImportError:
        raise ConfigError("PNG reports need matplotlib: pip install 'pytest-donki[report]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_rates(report: RunReport, path: Path) -> Path:
    """Rate over time per stream, nominal rates as dashed lines."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    nominal = {r.stream: r.nominal_hz for r in report.rows}
    seen = [v for v in nominal.values() if v > 0]
    for stream, times in sorted(report.trigger_times.items()):
        x, y = rate_series(times)
        seen += [v for v in y if v > 0]
        line, = ax.plot(x, y, marker=".", label=stream)
        if stream in nominal:
            ax.axhline(nominal[stream], color=line.get_color(), linestyle="--", linewidth=0.8)
    ax.set_xlabel("time since first trigger (s)")
    ax.set_ylabel("triggers per second")
    if seen:  # streams span 1 Hz to 1 kHz: a log axis with a margin on both sides
        ax.set_ylim(min(seen) / 2, max(seen) * 2)
    ax.set_yscale("log")
    ax.set_title(f"{report.scenario}: rate per stream (dashed: nominal)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_ack_latency(report: RunReport, path: Path) -> Path:
    """Histogram of trigger-to-ack latency per player (ms)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for player, values in sorted(report.ack_latencies_s.items()):
        if values:
            ax.hist([v * 1e3 for v in values], bins=40, histtype="step", label=player)
    ax.set_xlabel("ack latency (ms)")
    ax.set_ylabel("acks")
    ax.set_title(f"{report.scenario}: trigger-to-ack latency")
    if report.ack_latencies_s:
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
