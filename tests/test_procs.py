"""Children of the harness: they die with the session, but not with the thread that started them."""

from __future__ import annotations

import sys
import threading
import time

from harness.procs import spawn


def test_a_child_started_from_a_thread_outlives_that_thread(tmp_path):
    started = []

    def start_and_work_on() -> None:
        started.append(spawn("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
                             tmp_path / "sleeper.log"))
        time.sleep(1.0)  # like a fault injector waiting for the broker it restarted to serve

    thread = threading.Thread(target=start_and_work_on)
    thread.start()
    thread.join(30)
    [child] = started
    try:
        time.sleep(1.0)  # before: the parent-death signal of the ended thread killed it at once
        assert child.alive(), f"exit code {child.returncode}"
    finally:
        child.stop(grace_s=2)
    assert not child.alive()
