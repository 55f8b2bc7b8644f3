"""Write-behind: consumed batches are written to HDF5 by a second thread.

confluent-kafka releases the GIL while ``consume()`` waits for the next fetch, h5py
holds it while it writes. Handing each batch to a writer thread lets the HDF5 writes
run during those waits instead of after them (8 MB messages: the write time otherwise
adds to the fetch time). The backlog is bounded in bytes, so memory stays bounded: the
consumer blocks while more than ``max_bytes`` wait to be written.

Small messages are the other way round: their cost is Python work per message, which
holds the GIL in either thread, and handing batches over only adds GIL switches. The
consumer then writes them itself with :meth:`WriteBehind.write` (1 kB messages: 0.45 of
a bare consumer's rate instead of 0.39, median of 7).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from harness.errors import RecordingError

__all__ = ["WriteBehind", "MAX_BEHIND_BYTES"]

MAX_BEHIND_BYTES = 128 << 20
IDLE_S = 0.1
JOIN_S = 120.0


class WriteBehind:
    """Run ``write(messages, received)`` for each submitted batch, in order, in its own thread.

    ``idle()`` is called when no batch arrived for ``IDLE_S`` (periodic flushes). An
    exception in the thread stops it and is raised by the next :meth:`submit`,
    :meth:`write` or by :meth:`close`. A lock keeps ``write`` and ``idle`` from running in
    two threads at once. Every wait ends at ``wait_s``.
    """

    def __init__(self, write: Callable[[list[Any], float], None], idle: Callable[[], Any],
                 max_bytes: int = MAX_BEHIND_BYTES, name: str = "donki-writer", threaded: bool = True,
                 wait_s: float = JOIN_S) -> None:
        self._write, self._idle, self._max_bytes = write, idle, max_bytes
        self.threaded = threaded
        self._wait_s = wait_s
        self._lock = threading.Lock()
        self._batches: deque[tuple[list[Any], float, int]] = deque()
        self._pending_bytes = 0
        self._closing = False
        self._changed = threading.Condition()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        if threaded:
            self._thread.start()

    def submit(self, messages: list[Any], received: float, size: int) -> None:
        """Queue a batch of ``size`` payload bytes; blocks while the backlog is full."""
        if not self.threaded:  # write in the caller's thread
            self._write(messages, received)
            return
        with self._changed:
            self._wait(lambda: not self._batches or self._pending_bytes + size <= self._max_bytes,
                       "room in the recording writer's backlog")
            self._batches.append((messages, received, size))
            self._pending_bytes += size
            self._changed.notify_all()

    def write(self, messages: list[Any], received: float) -> None:
        """Write a batch in the caller's thread, after the queued ones (which keeps the order)."""
        if self.threaded:
            with self._changed:
                self._wait(lambda: not self._batches, "the recording writer's backlog to be written")
        with self._lock:
            self._write(messages, received)

    def _wait(self, ready: Callable[[], bool], what: str) -> None:
        """With ``_changed`` held: wait until ``ready()`` or the writer failed (raised), at most ``wait_s``."""
        deadline = time.monotonic() + self._wait_s
        while not ready() and self.error is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RecordingError(f"waited {self._wait_s:g} s for {what}")
            self._changed.wait(min(IDLE_S, left))
        self._raise_error()

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def check(self) -> None:
        """Raise the writer thread's error, if it had one (and flush when due, unthreaded)."""
        if not self.threaded:
            self._idle()
            return
        with self._changed:
            self._raise_error()

    def _next(self) -> tuple[list[Any], float, int] | None:
        with self._changed:
            if not self._batches and not self._closing:
                self._changed.wait(IDLE_S)
            return self._batches[0] if self._batches else None

    def _run(self) -> None:
        try:
            while True:
                batch = self._next()
                if batch is None:
                    if self._closing:
                        return
                    with self._lock:
                        self._idle()
                    continue
                with self._lock:
                    self._write(batch[0], batch[1])
                with self._changed:
                    self._batches.popleft()
                    self._pending_bytes -= batch[2]
                    self._changed.notify_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread
            with self._changed:
                self.error = exc
                self._batches.clear()
                self._changed.notify_all()

    def close(self, timeout_s: float = JOIN_S) -> None:
        """Write what is queued, stop the thread, raise its error if it had one."""
        if not self.threaded:
            return
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        deadline = time.monotonic() + timeout_s
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            raise RecordingError(f"the recording writer did not finish its backlog within {timeout_s:.0f} s")
        self.check()
