"""Sending on schedule: drift-free waits on the monotonic clock, and the error achieved.

Every target is an absolute offset from the start on ``time.monotonic()``, so a late
message does not delay the ones after it (no drift). The wait sleeps until shortly
before the target and spins the rest: ``time.sleep`` alone overshoots by ~50-100 us
(the kernel's timer slack). The spin is kept short on purpose: a thread that spins
for milliseconds looks CPU-bound to the scheduler and, on a loaded machine shared with
the broker and librdkafka's threads, is preempted for a whole time slice (measured:
p99 interval error 3-9 ms at 1 kHz with a 2 ms spin, under 1 ms with 0.2 ms).

A ``serve(timeout_s)`` callable (a producer's ``poll``) can be given to a wait: the
wait then serves it instead of sleeping, in blocking polls while the target is far and
in steps of ``SERVE_STEP_S`` near it, so delivery reports are handled when they arrive
rather than at the next send (their time is what a replay's delivery timing measures).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Pacer", "TimingError", "DEFAULT_SPIN_S", "DEFAULT_CATCH_UP_S", "SERVE_STEP_S", "fine_timer_slack"]

DEFAULT_SPIN_S = 0.0002
#: Near the target, serve(0) and a sleep this long alternate (a blocking poll waits whole ms only).
SERVE_STEP_S = 0.0001
_BLOCKING_POLL_MARGIN_S = 0.0015
#: A send this late (the process was stalled) moves the schedule instead of causing a burst.
DEFAULT_CATCH_UP_S = 0.005
_PR_SET_TIMERSLACK = 29


def fine_timer_slack() -> bool:
    """Ask Linux to wake this thread's sleeps on time (timer slack 1 ns instead of 50 us).

    Unprivileged and per thread; a no-op (false) where ``prctl`` is not available.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_TIMERSLACK, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


class Pacer:
    """Wait until offsets (seconds) from a start time on the monotonic clock.

    ``catch_up_s``: when a wait returns later than this after its target (the process
    was stalled), the schedule is moved by the delay (counted in ``resyncs`` and
    ``shift_s``) instead of sending the backlog in a burst; ``None`` keeps the strict
    schedule and catches up at once.
    """

    def __init__(self, spin_s: float = DEFAULT_SPIN_S, catch_up_s: float | None = DEFAULT_CATCH_UP_S) -> None:
        self.spin_s = spin_s
        self.catch_up_s = catch_up_s
        self.t0 = time.monotonic()
        self.shift_s = 0.0
        self.resyncs = 0
        fine_timer_slack()

    def restart(self) -> None:
        self.t0 = time.monotonic()
        self.shift_s = 0.0
        self.resyncs = 0

    def target(self, offset_s: float) -> float:
        """The offset (from ``t0``) a message scheduled at ``offset_s`` is now due at."""
        return offset_s + self.shift_s

    def wait(self, offset_s: float, idle: Callable[[float], None] | None = None,
             serve: Callable[[float], object] | None = None) -> float:
        """Return at ``t0 + offset_s`` (or at once if that has passed); returns the actual time.

        ``idle(deadline)`` is called first when there is time to spare; it must return
        before ``deadline`` (monotonic), e.g. :meth:`RecordFeed.fill_until`. ``serve(timeout_s)``
        is called instead of sleeping (see the module's docstring).
        """
        target = self.t0 + self.shift_s + offset_s
        if idle is not None and target - time.monotonic() > self.spin_s:
            idle(target - self.spin_s)
        if serve is None:
            remaining = target - time.monotonic()
            if remaining > self.spin_s:
                time.sleep(remaining - self.spin_s)
        else:
            _serve_until(target - self.spin_s, serve)
        now = time.monotonic()
        while now < target:
            if serve is not None:
                serve(0)
            now = time.monotonic()
        if self.catch_up_s is not None and now - target > self.catch_up_s:
            self.shift_s += now - target
            self.resyncs += 1
        return now


def _serve_until(deadline: float, serve: Callable[[float], object]) -> None:
    """Call ``serve`` until ``deadline`` (monotonic): blocking while far from it, in short steps near it."""
    while (left := deadline - time.monotonic()) > 0:
        if left > _BLOCKING_POLL_MARGIN_S:
            serve(left - _BLOCKING_POLL_MARGIN_S + 0.001)  # whole ms: returns by deadline - 0.5 ms at the latest
        else:
            serve(0)
            time.sleep(min(SERVE_STEP_S, left))


@dataclass(frozen=True)
class TimingError:
    """How closely sends followed the schedule, in seconds.

    ``interval_*``: |actual - recorded| interval between consecutive messages (what a
    consumer sees as jitter); ``late_*``: actual minus due send time (the recorded
    offset, moved by any resync of the pacer).
    """

    messages: int
    interval_p50: float
    interval_p99: float
    interval_max: float
    late_p50: float
    late_p99: float
    late_max: float

    @classmethod
    def measure(cls, scheduled: Sequence[float], actual: Sequence[float],
                due: Sequence[float] | None = None) -> TimingError | None:
        """From recorded offsets, actual offsets and due offsets (default: recorded), same start.

        ``None`` for fewer than 2 messages.
        """
        sched = np.asarray(scheduled, dtype=np.float64)
        real = np.asarray(actual, dtype=np.float64)
        if len(sched) < 2:
            return None
        interval = np.abs(np.diff(real) - np.diff(sched))
        late = real - (sched if due is None else np.asarray(due, dtype=np.float64))
        return cls(len(sched), float(np.percentile(interval, 50)), float(np.percentile(interval, 99)),
                   float(interval.max()), float(np.percentile(late, 50)), float(np.percentile(late, 99)),
                   float(late.max()))

    def line(self) -> str:
        return (f"interval error p50 {self.interval_p50 * 1e3:.3f} ms, p99 {self.interval_p99 * 1e3:.3f} ms, "
                f"max {self.interval_max * 1e3:.3f} ms; lateness p99 {self.late_p99 * 1e3:.3f} ms")
