"""Write-behind: consumed batches are written to HDF5 by a second thread.

confluent-kafka releases the GIL while ``consume()`` waits for the next fetch, h5py
holds it while it writes. Handing each batch to a writer thread lets the HDF5 writes
run during those waits instead of after them (8 MB messages: the write time otherwise
adds to the fetch time). The backlog is bounded in bytes, so memory stays bounded: the
consumer blocks while more than ``max_bytes`` wait to be written.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Callable

__all__ = ["WriteBehind", "MAX_BEHIND_BYTES"]

MAX_BEHIND_BYTES = 128 << 20
IDLE_S = 0.1
JOIN_S = 120.0


class WriteBehind:
    """Run ``write(messages, received)`` for each submitted batch, in order, in its own thread.

    ``idle()`` is called when no batch arrived for ``IDLE_S`` (periodic flushes). An
    exception in the thread stops it and is raised by the next :meth:`submit` or by
    :meth:`close`.
    """

    def __init__(self, write: Callable[[list, float], None], idle: Callable[[], Any],
                 max_bytes: int = MAX_BEHIND_BYTES, name: str = "donki-writer", threaded: bool = True) -> None:
        self._write, self._idle, self._max_bytes = write, idle, max_bytes
        self.threaded = threaded
        self._batches: deque[tuple[list, float, int]] = deque()
        self._pending_bytes = 0
        self._closing = False
        self._changed = threading.Condition()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        if threaded:
            self._thread.start()

    def submit(self, messages: list, received: float, size: int) -> None:
        """Queue a batch of ``size`` payload bytes; blocks while the backlog is full."""
        if not self.threaded:  # write in the caller's thread
            self._write(messages, received)
            return
        with self._changed:
            while self._batches and self._pending_bytes + size > self._max_bytes and self.error is None:
                self._changed.wait(IDLE_S)
            self._raise_error()
            self._batches.append((messages, received, size))
            self._pending_bytes += size
            self._changed.notify_all()

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

    def _next(self) -> tuple[list, float, int] | None:
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
                    self._idle()
                    continue
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
            raise TimeoutError(f"the recording writer did not finish its backlog within {timeout_s:.0f} s")
        self.check()
