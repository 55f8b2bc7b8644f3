"""The numbers plots draw: rate over time per stream, failed windows, latency percentiles."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

__all__ = [
    "RATE_WINDOW_S",
    "WINDOWS",
    "out_of_band",
    "percentiles",
    "rate_series",
    "rate_series_of",
    "window_for",
]

RATE_WINDOW_S = 1.0
#: About this many rate points over a run; a window always spans at least two trigger intervals
WINDOWS = 40


def rate_series(times: Sequence[float], window_s: float = RATE_WINDOW_S,
                start: float | None = None) -> tuple[list[float], list[float]]:
    """Rate in consecutive windows: intervals ending in a window divided by their total length.

    Returns (window centres relative to ``start``, default the first trigger, rates in Hz);
    windows without an interval are left out, so a slow stream is not drawn as dropping to zero.
    """
    if len(times) < 2:
        return [], []
    origin = times[0] if start is None else start
    sums: dict[int, list[float]] = {}
    for previous, current in itertools.pairwise(times):
        index = int((current - origin) // window_s)
        total = sums.setdefault(index, [0, 0.0])
        total[0] += 1
        total[1] += current - previous
    centres = [window_s * (i + 0.5) for i in sorted(sums)]
    rates = [sums[i][0] / sums[i][1] if sums[i][1] > 0 else float("nan") for i in sorted(sums)]
    return centres, rates


def window_for(times: Sequence[float]) -> float:
    """A window giving about :data:`WINDOWS` points, never shorter than two median intervals."""
    intervals = sorted(b - a for a, b in itertools.pairwise(times))
    if not intervals:
        return RATE_WINDOW_S
    median = intervals[len(intervals) // 2]
    span = times[-1] - times[0]
    return max(span / WINDOWS, 2 * median, 1e-6)


def rate_series_of(trigger_times: Mapping[str, Sequence[float]]) -> dict[str, dict[str, list[float]]]:
    """Per stream with at least two triggers, ``{"t": centres, "hz": rates, "window_s": [w]}``.

    Times count from the run's first trigger over all streams, so the streams line up.
    """
    firsts = [t[0] for t in trigger_times.values() if t]
    if not firsts:
        return {}
    origin = min(firsts)
    out: dict[str, dict[str, list[float]]] = {}
    for stream, times in sorted(trigger_times.items()):
        if len(times) < 2:
            continue
        window = window_for(times)
        centres, rates = rate_series(times, window, start=origin)
        out[stream] = {"t": centres, "hz": [r if math.isfinite(r) else 0.0 for r in rates], "window_s": [window]}
    return out


def out_of_band(hz: Sequence[float], nominal: float, tolerance: float) -> list[int]:
    """Indices of the windows whose rate lies outside ``nominal * (1 +- tolerance)``."""
    low, high = nominal * (1 - tolerance), nominal * (1 + tolerance)
    return [i for i, v in enumerate(hz) if not low <= v <= high]


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 99)) -> list[float]:
    """Nearest-rank percentiles of ``values`` (which must not be empty)."""
    ordered = sorted(values)
    n = len(ordered)
    return [ordered[min(n - 1, max(0, math.ceil(q / 100 * n) - 1))] for q in qs]
