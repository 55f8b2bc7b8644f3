"""The recorder's write-behind thread: order, bounded backlog, errors reach the consumer."""

from __future__ import annotations

import threading
import time

import pytest

from harness.errors import RecordingError
from harness.recording.writer.pipeline import WriteBehind


def test_batches_are_written_in_order_and_all_of_them_before_close():
    written = []
    behind = WriteBehind(lambda batch, received: written.append((batch, received)), lambda: None)
    for i in range(50):
        behind.submit([i], float(i), 1)
    behind.close(timeout_s=10)
    assert written == [([i], float(i)) for i in range(50)]


def test_the_backlog_is_bounded_in_bytes():
    release = threading.Event()
    behind = WriteBehind(lambda batch, received: release.wait(10), lambda: None, max_bytes=100)
    behind.submit(["a"], 0.0, 60)  # taken by the writer, which blocks
    behind.submit(["b"], 0.0, 30)
    blocked = threading.Thread(target=behind.submit, args=(["c"], 0.0, 30))
    blocked.start()
    time.sleep(0.3)
    assert blocked.is_alive(), "a third batch over the limit must wait for room"
    release.set()
    blocked.join(10)
    assert not blocked.is_alive()
    behind.close(timeout_s=10)


def test_an_error_in_the_writer_reaches_the_consumer():
    def fail(batch, received):
        raise ValueError(f"disk full at batch {batch}")

    behind = WriteBehind(fail, lambda: None)
    behind.submit([1], 0.0, 1)
    deadline = time.monotonic() + 10
    while behind.error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(ValueError, match=r"disk full at batch \[1\]"):
        behind.submit([2], 0.0, 1)
    with pytest.raises(ValueError, match="disk full"):
        behind.close(timeout_s=10)


def test_idle_is_called_while_nothing_arrives():
    idles = []
    behind = WriteBehind(lambda batch, received: None, lambda: idles.append(time.monotonic()))
    time.sleep(0.5)
    behind.close(timeout_s=10)
    assert len(idles) >= 2  # periodic flushes happen without traffic


def test_unthreaded_writes_at_once():
    written = []
    behind = WriteBehind(lambda batch, received: written.append(batch), lambda: None, threaded=False)
    behind.submit(["x"], 0.0, 1)
    assert written == [["x"]]
    behind.close()


def test_a_batch_written_in_the_callers_thread_comes_after_the_queued_ones():
    written, threads = [], []
    release = threading.Event()

    def write(batch, received):
        if batch == ["queued"]:
            release.wait(10)
        written.append(batch)
        threads.append(threading.current_thread().name)

    behind = WriteBehind(write, lambda: None, name="behind")
    behind.submit(["queued"], 0.0, 1)
    inline = threading.Thread(target=behind.write, args=(["inline"], 0.0), name="consumer")
    inline.start()
    time.sleep(0.2)
    assert written == [], "the inline batch must wait for the queued one"
    release.set()
    inline.join(10)
    behind.close(timeout_s=10)
    assert written == [["queued"], ["inline"]] and threads == ["behind", "consumer"]


def test_writes_and_idle_flushes_never_overlap():
    inside, overlaps = [0], []

    def exclusive(*_):
        inside[0] += 1
        overlaps.append(inside[0] > 1)
        time.sleep(0.002)
        inside[0] -= 1

    behind = WriteBehind(exclusive, exclusive)
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        behind.write(["x"], 0.0)
        time.sleep(0.001)
    behind.close(timeout_s=10)
    assert len(overlaps) > 10 and not any(overlaps)


def test_a_full_backlog_that_never_drains_ends_in_a_timeout():
    release = threading.Event()
    behind = WriteBehind(lambda batch, received: release.wait(10), lambda: None, max_bytes=10, wait_s=0.3)
    behind.submit(["a"], 0.0, 10)  # taken by the writer, which blocks
    with pytest.raises(RecordingError, match="waited 0.3 s for room in the recording writer's backlog"):
        behind.submit(["b"], 0.0, 10)
    release.set()
    behind.close(timeout_s=10)
