"""Records for a timed replay, read ahead while the replayer would otherwise wait.

An HDF5 read takes a millisecond or more and h5py holds the GIL while it runs, so
reading in the send loop (or in a second thread) would push sends late. The feed
reads small blocks only when the next send is far enough away, judged by how long
blocks took so far, and reads at once only if it ran dry.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np

from harness.records import KafkaRecord

__all__ = ["RecordFeed"]

BLOCK_ROWS = 128
MAX_BUFFER_BYTES = 256 << 20
MAX_BUFFER_ROWS = 1 << 18


class RecordFeed:
    """Iterate over ``recording``'s messages at ``rows``, buffering ahead in blocks."""

    def __init__(self, recording: Any, rows: np.ndarray, *, block_rows: int = BLOCK_ROWS,
                 max_bytes: int = MAX_BUFFER_BYTES, max_rows: int = MAX_BUFFER_ROWS) -> None:
        self._recording = recording
        self._rows = rows
        self._sizes = recording.index["payload_length"][rows].astype(np.int64) if len(rows) else np.zeros(0)
        self._pos = 0
        self._buffer: deque[KafkaRecord] = deque()
        self._buffered_bytes = 0
        self._block_rows, self._max_bytes, self._max_rows = block_rows, max_bytes, max_rows
        self._block_cost_s = 0.0

    def preload(self) -> None:
        """Fill the buffer (before a timed replay starts)."""
        while self._room():
            self._read_block()

    def fill_until(self, deadline: float) -> None:
        """Read blocks while one more is expected to finish before ``deadline`` (monotonic)."""
        while self._room() and time.monotonic() + 2 * self._block_cost_s < deadline:
            self._read_block()

    def _room(self) -> bool:
        return (self._pos < len(self._rows) and self._buffered_bytes < self._max_bytes
                and len(self._buffer) < self._max_rows)

    def _read_block(self) -> None:
        started = time.monotonic()
        end = self._pos + self._block_rows
        # a big message is a block of its own, so one read never holds many of them
        big = np.flatnonzero(self._sizes[self._pos:end] > (1 << 20))
        if len(big):
            end = self._pos + max(1, int(big[0]))
        for record in self._recording.records(self._rows[self._pos:end]):
            self._buffer.append(record)
            self._buffered_bytes += len(record.value)
        self._pos = end
        cost = time.monotonic() - started
        self._block_cost_s = cost if not self._block_cost_s else 0.8 * self._block_cost_s + 0.2 * cost

    def __iter__(self) -> RecordFeed:
        return self

    def __next__(self) -> KafkaRecord:
        if not self._buffer:
            if self._pos >= len(self._rows):
                raise StopIteration
            self._read_block()
        record = self._buffer.popleft()
        self._buffered_bytes -= len(record.value)
        return record
