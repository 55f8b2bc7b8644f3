"""Small statistics shared by the checks (percentiles without numpy on tiny inputs, Student's t)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

__all__ = ["percentile", "distribution", "t_quantile"]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated ``q``-th percentile (0-100) of ``values``; NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def distribution(values: Sequence[float]) -> dict[str, float]:
    """count, min, p50, p90, p99, max, mean of ``values``."""
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "min": min(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values),
        "mean": sum(values) / len(values),
    }


def t_quantile(confidence: float, dof: int) -> float:
    """Two-sided Student's t factor: ``|T| <= t`` with probability ``confidence`` at ``dof`` degrees of freedom.

    Exact for 1 and 2 degrees of freedom, the Cornish-Fisher series beyond (Abramowitz and
    Stegun 26.7.5; within 1 % of the table from 3 on), so no scipy is needed.
    ``confidence=0`` gives 0.

    Parameters
    ----------
    confidence
        In [0, 1).
    dof
        At least 1.
    """
    if not 0.0 <= confidence < 1.0 or dof < 1:
        raise ValueError(f"t_quantile({confidence!r}, {dof!r}): expected 0 <= confidence < 1 and dof >= 1")
    p = (1.0 + confidence) / 2.0  # one-sided
    if dof == 1:
        return math.tan(math.pi * (p - 0.5))
    if dof == 2:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))
    z = NormalDist().inv_cdf(p)
    v = float(dof)
    return (z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
            + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4))
