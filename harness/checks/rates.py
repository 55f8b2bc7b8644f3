"""Rates: achieved trigger rate per stream against nominal, and interval jitter."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from harness.checks.digest import RecordLike
from harness.checks.result import CheckResult, Finding
from harness.checks.stats import percentile

__all__ = ["stream_trigger_times", "check_rates", "assert_rates", "robust_period", "CLOCKS"]

CLOCKS = ("timestamp", "received")


def stream_trigger_times(records: Iterable[RecordLike], clock: str = "timestamp") -> dict[str, list[float]]:
    """Per stream, the time (s) of the first message of each trigger, in trigger order.

    ``clock`` is ``"timestamp"`` (the Kafka timestamp, which players set to the data's own
    time) or ``"received"`` (when the recorder got the message). Foreign messages (without
    harness headers) are ignored.
    """
    if clock not in CLOCKS:
        raise ValueError(f"clock={clock!r}; expected one of {CLOCKS}")
    first: dict[str, dict[int, float]] = {}
    for record in records:
        meta = record.donki
        if meta is None:
            continue
        t = record.timestamp_ms / 1000.0 if clock == "timestamp" else record.received
        per_trigger = first.setdefault(meta.stream, {})
        if meta.trigger not in per_trigger or t < per_trigger[meta.trigger]:
            per_trigger[meta.trigger] = t
    return {stream: [times[n] for n in sorted(times)] for stream, times in first.items()}


STATISTICS = ("slope", "median", "mean")
STATISTIC_LABELS = {"slope": "robust slope", "median": "median interval", "mean": "mean over span"}
_MAX_SLOPE_POINTS = 800  # Theil-Sen pairs grow as n**2; beyond this, evenly spaced triggers stand in


def robust_period(times: Sequence[float]) -> float:
    """Theil-Sen period: the median over all pairs of triggers of their time difference per trigger.

    Unlike the median interval it uses every trigger, so on a short run a trigger delayed by
    an upstream level's ack does not decide the rate; unlike the span it is not thrown by a
    stall near either end.
    """
    t = np.asarray(times, dtype=float)
    index = np.arange(len(t))
    if len(t) > _MAX_SLOPE_POINTS:
        index = np.unique(np.linspace(0, len(t) - 1, _MAX_SLOPE_POINTS).round().astype(int))
        t = t[index]
    first, second = np.triu_indices(len(t), 1)
    return float(np.median((t[second] - t[first]) / (index[second] - index[first])))


def _stream_metrics(times: Sequence[float], nominal_hz: float, statistic: str) -> dict[str, float]:
    span = times[-1] - times[0]
    intervals = [b - a for a, b in pairwise(times)]
    period = 1.0 / nominal_hz
    deviations = [abs(i - period) for i in intervals]
    median = percentile(intervals, 50)
    slope = robust_period(times)
    rates = {
        "slope": 1.0 / slope if slope > 0 else float("inf"),
        "median": 1.0 / median if median > 0 else float("inf"),
        "mean": (len(times) - 1) / span if span > 0 else float("inf"),
    }
    return {
        "triggers": len(times),
        "nominal_hz": nominal_hz,
        "achieved_hz": rates[statistic],
        "slope_hz": rates["slope"],
        "mean_hz": rates["mean"],
        "median_interval_hz": rates["median"],
        "span_s": span,
        "jitter_p50_s": percentile(deviations, 50),
        "jitter_p99_s": percentile(deviations, 99),
    }


def check_rates(
    times: Mapping[str, Sequence[float]],
    nominal_hz: Mapping[str, float],
    *,
    tolerance: float | Mapping[str, float] = 0.1,
    jitter_p99_limit_s: float | None = None,
    statistic: str = "slope",
) -> CheckResult:
    """Compare each stream's achieved rate with its nominal rate.

    The achieved rate is, by default, one over the Theil-Sen slope of trigger time against
    trigger index (:func:`robust_period`): a single stall (a loaded CI machine, a JVM pause)
    or a trigger held up by an upstream level's ack shows in the jitter, not as a wrong
    rate, also on a run of a few triggers, while a stream that is steadily slow or skips
    triggers still fails. ``statistic="median"`` uses one over the median interval,
    ``"mean"`` triggers over time span.

    Parameters
    ----------
    times
        Per stream, event times in seconds, one per trigger (see :func:`stream_trigger_times`).
    nominal_hz
        Per stream, the nominal rate. Every stream named here must have data.
    tolerance
        Allowed relative deviation (0.1 = +-10 %), one for all or per stream.
    jitter_p99_limit_s
        If set, the p99 of |interval - nominal period| must not exceed it.
    statistic
        ``"slope"`` (default), ``"median"`` or ``"mean"``, see above.

    A stream with fewer than two triggers cannot be rated: it is listed in the
    ``unrated`` metric, not failed (missing data is the ordering and integrity checks' job).
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic={statistic!r}; expected one of {STATISTICS}")
    findings: list[Finding] = []
    metrics: dict[str, object] = {}
    unrated: list[str] = []
    for stream, nominal in nominal_hz.items():
        allowed = tolerance[stream] if isinstance(tolerance, Mapping) else tolerance
        got = list(times.get(stream, ()))
        if len(got) < 2:
            unrated.append(stream)
            continue
        m = metrics[stream] = _stream_metrics(got, nominal, statistic)
        deviation = m["achieved_hz"] / nominal - 1.0
        m["deviation"] = deviation
        if abs(deviation) > allowed:
            findings.append(Finding(
                f"stream {stream!r}: achieved {m['achieved_hz']:.3g} Hz ({STATISTIC_LABELS[statistic]}), nominal "
                f"{nominal:g} Hz ({deviation:+.1%}, tolerance +-{allowed:.0%}) over {len(got)} triggers in "
                f"{m['span_s']:.3g} s", stream=stream))
        if jitter_p99_limit_s is not None and m["jitter_p99_s"] > jitter_p99_limit_s:
            findings.append(Finding(
                f"stream {stream!r}: interval jitter p99 {m['jitter_p99_s'] * 1e3:.3g} ms exceeds "
                f"{jitter_p99_limit_s * 1e3:.3g} ms (p50 {m['jitter_p50_s'] * 1e3:.3g} ms)", stream=stream))
    metrics["unrated"] = unrated
    return CheckResult("rates", tuple(findings), metrics, checked=len(nominal_hz) - len(unrated))


def assert_rates(times: Mapping[str, Sequence[float]], nominal_hz: Mapping[str, float],
                 **kwargs: Any) -> CheckResult:
    """:func:`check_rates`, raising :class:`~harness.errors.CheckFailed` with a readable report."""
    __tracebackhide__ = True
    return check_rates(times, nominal_hz, **kwargs).assert_passed()
