"""Rates: achieved trigger rate per stream against nominal, and interval jitter.

The verdict accounts for how much the run shows: the achieved rate must lie within the
tolerance of the nominal rate *plus* a confidence bound from the stream's own jitter
(Student's t times the standard error of the fitted period), so five jittery triggers on
a loaded machine are not judged as strictly as five hundred steady ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from harness.checks.config import CONFIDENCE, STATISTICS
from harness.checks.digest import RecordLike
from harness.checks.pertrigger import TriggerColumn
from harness.checks.result import CheckResult, Finding
from harness.checks.stats import percentile, t_quantile

__all__ = ["TriggerTimes", "stream_trigger_times", "check_rates", "assert_rates", "rate_verdict", "robust_period",
           "period_stderr",
           "CLOCKS", "CONFIDENCE", "MIN_TRIGGERS", "STATISTICS"]

CLOCKS = ("timestamp", "received")
#: Fewer trigger times than this give no jitter estimate (two points fit any line): unrated
MIN_TRIGGERS = 3


class TriggerTimes:
    """Per stream, the time (s) of the first message of each trigger, gathered one message at a time.

    ``clock`` is ``"timestamp"`` (the Kafka timestamp, which players set to the data's own
    time) or ``"received"`` (when the recorder got the message). Foreign messages (without
    harness headers) are ignored. Keeps 8 bytes per trigger and stream.
    """

    def __init__(self, clock: str = "timestamp") -> None:
        if clock not in CLOCKS:
            raise ValueError(f"clock={clock!r}; expected one of {CLOCKS}")
        self._received = clock == "received"
        self._first: dict[str, TriggerColumn] = {}

    def feed(self, record: RecordLike) -> None:
        meta = record.donki
        if meta is None:
            return
        column = self._first.get(meta.stream)
        if column is None:
            column = self._first[meta.stream] = TriggerColumn()
        column.keep_lowest(meta.trigger, record.received if self._received else record.timestamp_ms / 1000.0)

    def times(self) -> dict[str, list[float]]:
        """Per stream, the first times in trigger order."""
        return {stream: [float(t) for _, t in column.items()] for stream, column in self._first.items()}


def stream_trigger_times(records: Iterable[RecordLike], clock: str = "timestamp") -> dict[str, list[float]]:
    """:class:`TriggerTimes` over ``records``."""
    gathered = TriggerTimes(clock)
    for record in records:
        gathered.feed(record)
    return gathered.times()


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


def period_stderr(times: Sequence[float], period: float) -> float:
    """Standard error of a fitted ``period`` from the residuals about the robust line.

    The line through the trigger times has slope ``period`` and the median intercept; the
    residuals' root mean square (``n - 2`` degrees of freedom) over the spread of the
    trigger indices is the slope's standard error, as for a least-squares fit. A late
    trigger widens it, which is the point: few, jittery intervals say little about the rate.
    NaN for fewer than three times.
    """
    n = len(times)
    if n < MIN_TRIGGERS:
        return math.nan
    t = np.asarray(times, dtype=float)
    index = np.arange(n, dtype=float)
    residuals = t - period * index
    residuals -= np.median(residuals)
    spread = float(np.sum((index - index.mean()) ** 2))
    return math.sqrt(float(np.sum(residuals**2)) / (n - 2) / spread)


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
    stderr_s = period_stderr(times, slope)
    achieved = rates[statistic]
    return {
        "triggers": len(times),
        "nominal_hz": nominal_hz,
        "achieved_hz": achieved,
        "slope_hz": rates["slope"],
        "mean_hz": rates["mean"],
        "median_interval_hz": rates["median"],
        "span_s": span,
        "jitter_p50_s": percentile(deviations, 50),
        "jitter_p99_s": percentile(deviations, 99),
        "period_stderr_s": stderr_s,
        "rate_stderr_hz": achieved * achieved * stderr_s if math.isfinite(achieved) else math.inf,
    }


def rate_verdict(times: Sequence[float], nominal_hz: float, *, tolerance: float, statistic: str = "slope",
                 confidence: float = CONFIDENCE) -> tuple[dict[str, float], str]:
    """One stream's rate metrics and what is wrong with its rate (``""``: nothing), see :func:`check_rates`.

    ``times`` must hold at least :data:`MIN_TRIGGERS` trigger times.
    """
    m = _stream_metrics(times, nominal_hz, statistic)
    return m, _verdict(m, tolerance, confidence, statistic)


def _verdict(m: dict[str, float], tolerance: float, confidence: float, statistic: str) -> str:
    """Fill in the bound of ``m``; the finding's text if the achieved rate lies outside it, else ``""``."""
    nominal, achieved = m["nominal_hz"], m["achieved_hz"]
    factor = t_quantile(confidence, int(m["triggers"]) - 2)
    bound = tolerance * nominal + factor * m["rate_stderr_hz"]
    deviation = achieved / nominal - 1.0
    m.update(deviation=deviation, tolerance=tolerance, confidence=confidence, t_factor=factor, bound_hz=bound)
    if math.isfinite(achieved) and abs(achieved - nominal) <= bound:  # all triggers at one instant: infinite
        return ""
    return (f"achieved {achieved:.3g} Hz ({STATISTIC_LABELS[statistic]}), nominal {nominal:g} Hz "
            f"({deviation:+.1%}, tolerance +-{tolerance * 100:.3g}%); outside the bound +-{bound:.3g} Hz "
            f"(+-{bound / nominal:.1%}: tolerance + {factor:.3g} x stderr {m['rate_stderr_hz']:.3g} Hz, "
            f"{confidence * 100:.3g}% confidence) over {int(m['triggers'])} triggers in {m['span_s']:.3g} s")


def check_rates(
    times: Mapping[str, Sequence[float]],
    nominal_hz: Mapping[str, float],
    *,
    tolerance: float | Mapping[str, float] = 0.1,
    jitter_p99_limit_s: float | None = None,
    statistic: str = "slope",
    confidence: float = CONFIDENCE,
) -> CheckResult:
    """Compare each stream's achieved rate with its nominal rate, allowing for the jitter seen.

    The achieved rate is, by default, one over the Theil-Sen slope of trigger time against
    trigger index (:func:`robust_period`): a single stall (a loaded CI machine, a JVM pause)
    or a trigger held up by an upstream level's ack shows in the jitter, not as a wrong
    rate, also on a run of a few triggers, while a stream that is steadily slow or skips
    triggers still fails. ``statistic="median"`` uses one over the median interval,
    ``"mean"`` triggers over time span.

    A stream fails when ``|achieved - nominal| > tolerance * nominal + t * stderr``:
    ``stderr`` is the achieved rate's standard error from the residuals about the robust
    line (:func:`period_stderr`), ``t`` Student's two-sided factor at ``confidence`` with
    ``triggers - 2`` degrees of freedom (12.9 for 5 triggers, 3.9 for 20 at the default
    99.9 %, see :data:`~harness.checks.config.CONFIDENCE`). A short,
    jittery run thus needs a larger deviation to fail than a long, steady one.

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
    confidence
        Two-sided confidence of the jitter bound, in [0, 1); 0 lets the tolerance alone decide.

    A stream with fewer than :data:`MIN_TRIGGERS` triggers cannot be rated: it is listed in
    the ``unrated`` metric, not failed (missing data is the ordering and integrity checks' job).
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic={statistic!r}; expected one of {STATISTICS}")
    if not 0.0 <= confidence < 1.0:
        raise ValueError(f"confidence={confidence!r}; expected a number in [0, 1)")
    findings: list[Finding] = []
    metrics: dict[str, object] = {}
    unrated: list[str] = []
    for stream, nominal in nominal_hz.items():
        allowed = tolerance[stream] if isinstance(tolerance, Mapping) else tolerance
        got = list(times.get(stream, ()))
        if len(got) < MIN_TRIGGERS:
            unrated.append(stream)
            continue
        m, problem = rate_verdict(got, nominal, tolerance=allowed, statistic=statistic, confidence=confidence)
        metrics[stream] = m
        if problem:
            findings.append(Finding(f"stream {stream!r}: {problem}", stream=stream))
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
