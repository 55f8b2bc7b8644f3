"""An append-only byte dataset written in whole chunks.

Payloads go to one contiguous ``uint8`` dataset. Writing each finished chunk with
``H5Dwrite_chunk`` bypasses the chunk cache and the type conversion layer (about three
times the speed of a slice assignment for 8 MB messages). The last, partial chunk is
kept in memory (at most one chunk) and written padded at each flush, then rewritten
once it fills up, so the file always holds every byte appended before the last flush.
That chunk is one buffer, allocated once and refilled: a buffer grown anew for every
chunk cost a page fault per 4 kB of payload (fresh memory from the kernel each time).
A dataset of another fixed-size numeric type (the event columns of the NeXus views and of
the file-writer double) is filled the same way, with sizes and positions counted in bytes
and its elements' bytes appended.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ByteHeap"]


class ByteHeap:
    """Append bytes to a chunked, resizable 1-D ``uint8`` (or other fixed-size numeric) h5py dataset.

    Parameters
    ----------
    dataset
        An empty (or previously flushed) dataset with chunks of ``(chunk,)`` and no filters.
    """

    def __init__(self, dataset: Any) -> None:
        self._ds = dataset
        self._item = int(dataset.dtype.itemsize)
        self._chunk = int(dataset.chunks[0]) * self._item
        self._size = int(dataset.shape[0]) * self._item
        self._tail_start = self._size - self._size % self._chunk
        self._open = bytearray(self._chunk)  # the open (last, partial) chunk; its first _fill bytes are data
        self._fill = self._size - self._tail_start
        if self._fill:
            self._open[:self._fill] = dataset[self._tail_start // self._item:].tobytes()
        self._extent = self._size

    @property
    def size(self) -> int:
        """Bytes appended so far (flushed or not)."""
        return self._size

    def append(self, data: bytes | bytearray | memoryview) -> int:
        """Append ``data``; returns its start position in the heap."""
        start, fill, length = self._size, self._fill, len(data)
        self._size = start + length
        if fill + length < self._chunk:  # the common case: it fits in the open chunk
            self._open[fill:fill + length] = data
            self._fill = fill + length
            return start
        view = memoryview(data)
        if fill:
            room = self._chunk - fill
            self._open[fill:] = view[:room]
            self._write_chunk(self._open)
            view = view[room:]
        full = len(view) - len(view) % self._chunk
        for pos in range(0, full, self._chunk):
            self._write_chunk(view[pos:pos + self._chunk])
        self._fill = len(view) - full
        self._open[:self._fill] = view[full:]
        return start

    def flush(self) -> None:
        """Write the partial last chunk (zero-padded) and set the extent; then h5py-flush."""
        if self._fill:
            self._ensure_extent()
            self._open[self._fill:] = bytes(self._chunk - self._fill)
            self._ds.id.write_direct_chunk((self._tail_start // self._item,), self._open)
        elif self._extent != self._size:
            self._ensure_extent()
        self._ds.flush()

    def _write_chunk(self, chunk: bytes | bytearray | memoryview) -> None:
        self._ensure_extent()
        self._ds.id.write_direct_chunk((self._tail_start // self._item,), chunk)
        self._tail_start += self._chunk

    def _ensure_extent(self) -> None:
        # a chunk may only be written inside the dataset's extent
        if self._extent != self._size:
            self._ds.resize((self._size // self._item,))
            self._extent = self._size
