"""Small statistics shared by the checks (percentiles without numpy on tiny inputs, Student's t)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

__all__ = ["percentile", "distribution", "t_confidence", "t_quantile"]


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


_EXACT_DOF = 30  # up to here the quantile solves the exact distribution; beyond, the series is within 0.1 %


def t_confidence(t: float, dof: int) -> float:
    """P(|T| <= t) for Student's T with ``dof`` (a whole number >= 1) degrees of freedom.

    The finite series of Abramowitz and Stegun 26.7.3/26.7.4 (exact for whole ``dof``).
    """
    theta = math.atan(t / math.sqrt(dof))
    c2 = math.cos(theta) ** 2
    if dof % 2:  # odd: 2/pi * (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ...))
        term, total = 1.0, 1.0 if dof > 1 else 0.0
        for k in range(1, (dof - 1) // 2):
            term *= c2 * (2 * k) / (2 * k + 1)
            total += term
        return 2.0 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)
    term, total = 1.0, 1.0  # even: sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...)
    for k in range(1, dof // 2):
        term *= c2 * (2 * k - 1) / (2 * k)
        total += term
    return math.sin(theta) * total


def t_quantile(confidence: float, dof: int) -> float:
    """Two-sided Student's t factor: ``|T| <= t`` with probability ``confidence`` at ``dof`` degrees of freedom.

    Solved on the exact distribution (:func:`t_confidence`) up to 30 degrees of freedom,
    the Cornish-Fisher series beyond (Abramowitz and Stegun 26.7.5), so no scipy is
    needed. ``confidence=0`` gives 0.

    Parameters
    ----------
    confidence
        In [0, 1).
    dof
        At least 1.
    """
    if not 0.0 <= confidence < 1.0 or dof < 1:
        raise ValueError(f"t_quantile({confidence!r}, {dof!r}): expected 0 <= confidence < 1 and dof >= 1")
    if confidence == 0.0:
        return 0.0
    if dof > _EXACT_DOF:
        return _cornish_fisher(confidence, dof)
    low, high = 0.0, 1.0
    while t_confidence(high, dof) < confidence:
        low, high = high, high * 2.0
    for _ in range(100):
        middle = (low + high) / 2.0
        low, high = (middle, high) if t_confidence(middle, dof) < confidence else (low, middle)
        if high - low < 1e-10 * high:
            break
    return (low + high) / 2.0


def _cornish_fisher(confidence: float, dof: int) -> float:
    z = NormalDist().inv_cdf((1.0 + confidence) / 2.0)
    v = float(dof)
    return (z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
            + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4))
