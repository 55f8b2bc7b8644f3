"""The pacer on the real monotonic clock: waits return on time, and a serve callable is served while waiting."""

from __future__ import annotations

import time

from harness.recording.replay.pacing import SERVE_STEP_S, Pacer


def test_a_wait_that_serves_returns_at_its_target_and_serves_until_then():
    pacer = Pacer(catch_up_s=None)
    calls: list[tuple[float, float]] = []  # (time of the call, timeout asked)

    def serve(timeout_s: float) -> None:
        calls.append((time.monotonic(), timeout_s))
        time.sleep(int(timeout_s * 1000) / 1000)  # as Producer.poll with no event: whole ms of its timeout

    returned = pacer.wait(0.02, serve=serve)
    target = pacer.t0 + 0.02
    assert returned >= target
    # it never blocks past the target; far from it one blocking poll, near it short steps, never a busy loop
    assert all(at + timeout <= target for at, timeout in calls)
    assert calls[0][1] > 0.01
    assert len(calls) < 0.02 / SERVE_STEP_S


def test_a_wait_without_serve_returns_at_its_target():
    pacer = Pacer(catch_up_s=None)
    assert pacer.wait(0.01) >= pacer.t0 + 0.01
    assert pacer.wait(0.0) >= pacer.t0  # a passed target returns at once
