"""The NeXus view groups, one per source, filled message by message.

An ev44 source becomes an ``NXdetector`` holding an ``NXevent_data``, an f144 source an
``NXlog``, with the datasets, dtypes and attributes of the ESS file writer's ev44 and f144
modules: ``event_time_zero`` (uint64, ns since the epoch, ``start`` attribute),
``event_index`` (int64), ``event_id`` (int32), ``event_time_offset`` (int32, ns); ``time``
(uint64, ns) and ``value``; plus the cue datasets. As in the file writer, an ev44 message
without events adds no pulse.

A group is created with its datasets (empty, resizable) and the attributes known from the
first message; :meth:`finish` adds what is known only at the end (counts, units, the
``detector_number``, value statistics). Between the two, the file may be closed and
re-opened: :meth:`rebind` points the group at the new file handle.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from harness.chunkheap import ByteHeap

__all__ = ["EventData", "Log", "link_name", "EPOCH", "DEFAULT_CUE_INTERVAL", "F144_CUE_INTERVAL"]

EPOCH = "1970-01-01T00:00:00Z"
#: The file writer's default ev44 cue interval (events); f144 writes a cue every 1000 values.
DEFAULT_CUE_INTERVAL = 100_000_000
F144_CUE_INTERVAL = 1000
#: Elements buffered per dataset before they are written (a 1e6-event pulse is written at once).
APPEND_EVERY = 1 << 20
#: Rows per chunk: events (1 MiB of int32: a 1e6-event pulse is four chunk writes), pulses (an
#: hour at 14 Hz), log values (a small log stays small on disk) and cues (rare).
EVENT_CHUNK_ROWS = 1 << 18
PULSE_CHUNK_ROWS = 1 << 16
LOG_CHUNK_ROWS = 1 << 12
CUE_CHUNK_ROWS = 1 << 10
#: At most this many elements per chunk (the rows of a 2-D log value are arrays).
CHUNK_ELEMENTS = 1 << 20


def link_name(text: str) -> str:
    """An HDF5 link name from a source name (``/`` and leading dots are not allowed)."""
    return re.sub(r"[/\x00]", "_", text).lstrip(".") or "unnamed"


def _extensible(group: Any, name: str, dtype: Any, chunk_rows: int, shape_tail: tuple[int, ...] = (),
                units: str | None = None, start: bool = False) -> Any:
    rows = min(chunk_rows, max(1, CHUNK_ELEMENTS // max(1, int(np.prod(shape_tail or (1,))))))
    ds = group.create_dataset(name, (0, *shape_tail), maxshape=(None, *shape_tail), dtype=dtype,
                              chunks=(rows, *shape_tail))
    if start:
        ds.attrs["start"] = EPOCH
    if units is not None:
        ds.attrs["units"] = units
    return ds


class _Column:
    """A dataset filled by appends, written in large pieces (the rows of a 2-D dataset)."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self.name = dataset.name
        self._pending: list[np.ndarray] = []
        self._count = 0

    def append(self, values: np.ndarray) -> None:
        self._pending.append(values)
        self._count += len(values)
        if self._count >= APPEND_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write what is pending; SWMR readers then see it."""
        if self._pending:
            pending = self._pending
            data = pending[0] if len(pending) == 1 else np.concatenate(pending)
            data = data.astype(self.dataset.dtype, copy=False)
            self._pending, self._count = [], 0
            if len(data):
                start = self.dataset.shape[0]
                self.dataset.resize((start + len(data), *self.dataset.shape[1:]))
                self.dataset[start:] = data
        self.dataset.flush()

    def rebind(self, h5: Any) -> None:
        self.dataset = h5[self.name]


class _FlatColumn:
    """A 1-D dataset filled by appends, written chunk by chunk from the appended arrays' buffers.

    Whole chunks bypass HDF5's chunk cache and type conversion (see
    :class:`harness.chunkheap.ByteHeap`): a 1e6-event pulse costs a few
    ``write_direct_chunk`` calls and no copy.
    """

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self.name = dataset.name
        self._dtype = dataset.dtype
        self._heap = ByteHeap(dataset)

    def append(self, values: np.ndarray) -> None:
        if len(values):
            self._heap.append(np.ascontiguousarray(values, dtype=self._dtype).reshape(-1).view(np.uint8).data)

    def flush(self) -> None:
        """Write the partial last chunk and the size; SWMR readers then see it."""
        self._heap.flush()

    def rebind(self, h5: Any) -> None:
        """Continue in ``h5`` (the same file re-opened after a :meth:`flush`)."""
        self.dataset = h5[self.name]
        self._heap = ByteHeap(self.dataset)


def _column(dataset: Any) -> _Column | _FlatColumn:
    return _FlatColumn(dataset) if dataset.ndim == 1 else _Column(dataset)


class _Group:
    """What both kinds of view share: the group, its columns, flushing and re-binding."""

    group: Any
    path: str  # the group's name in the file (a closed handle no longer knows it)
    columns: tuple[_Column | _FlatColumn, ...]

    def flush(self) -> None:
        """Write what the columns hold back; SWMR readers then see it."""
        for column in self.columns:
            column.flush()

    def rebind(self, h5: Any) -> None:
        self.group = h5[self.path]
        for column in self.columns:
            column.rebind(h5)


class EventData(_Group):
    """One ev44 source -> NXdetector/NXevent_data."""

    def __init__(self, parent: Any, name: str, topic: str, source: str, cue_interval: int) -> None:
        detector = parent.create_group(name)
        detector.attrs["NX_class"] = "NXdetector"
        group = detector.create_group("events")
        group.attrs.update({"NX_class": "NXevent_data", "topic": topic, "source_name": source})
        self.group, self.path = group, group.name
        self.source = source
        self.offset = _column(_extensible(group, "event_time_offset", "i4", EVENT_CHUNK_ROWS, units="ns"))
        self.event_id = _column(_extensible(group, "event_id", "i4", EVENT_CHUNK_ROWS))
        self.time_zero = _column(_extensible(group, "event_time_zero", "u8", PULSE_CHUNK_ROWS, units="ns",
                                                start=True))
        self.index = _column(_extensible(group, "event_index", "i8", PULSE_CHUNK_ROWS))
        self.cue_index = _column(_extensible(group, "cue_index", "i8", CUE_CHUNK_ROWS))
        self.cue_time = _column(_extensible(group, "cue_timestamp_zero", "i8", CUE_CHUNK_ROWS, units="ns",
                                               start=True))
        self.columns = (self.offset, self.event_id, self.time_zero, self.index, self.cue_index, self.cue_time)
        self.cue_interval = cue_interval
        self.events = 0
        self.last_cue = 0
        self.messages = 0

    def add(self, data: Any) -> None:
        self.messages += 1
        tof = np.asarray(data.time_of_flight, dtype=np.int32)
        self.offset.append(tof)
        self.event_id.append(np.asarray(data.pixel_id, dtype=np.int32).reshape(-1))
        if not len(tof):
            return
        reference = np.asarray(data.reference_time, dtype=np.int64).reshape(-1)
        self.time_zero.append(reference)
        self.index.append(np.asarray(data.reference_time_index, dtype=np.int64).reshape(-1) + self.events)
        self.events += len(tof)
        if self.events > self.last_cue + self.cue_interval:
            self.cue_time.append(np.asarray([reference[-1] + int(tof[-1])], dtype=np.int64))
            self.cue_index.append(np.asarray([self.events - 1], dtype=np.int64))
            self.last_cue = self.events - 1

    def finish(self, units: dict[str, str], detectors: dict[str, np.ndarray]) -> None:
        self.flush()
        detector_number = detectors.get(self.source)
        if detector_number is not None:  # scippnexus groups the events by it
            self.group.parent.create_dataset("detector_number", data=detector_number)
        self.group.attrs["messages"] = self.messages
        self.group.attrs["events"] = self.events


class Log(_Group):
    """One f144 source -> NXlog."""

    def __init__(self, parent: Any, name: str, topic: str, source: str, dtype: np.dtype, width: int | None) -> None:
        group = parent.create_group(name)
        group.attrs.update({"NX_class": "NXlog", "topic": topic, "source_name": source})
        self.group, self.path = group, group.name
        self.source = source
        self.time = _column(_extensible(group, "time", "u8", LOG_CHUNK_ROWS, units="ns", start=True))
        self.value = _column(_extensible(group, "value", dtype, LOG_CHUNK_ROWS,
                                          () if width is None else (width,)))
        self.cue_index = _column(_extensible(group, "cue_index", "i8", CUE_CHUNK_ROWS))
        self.cue_time = _column(_extensible(group, "cue_timestamp_zero", "i8", CUE_CHUNK_ROWS, units="ns",
                                               start=True))
        self.columns = (self.time, self.value, self.cue_index, self.cue_time)
        self.width = width
        self.count = 0
        self.skipped = 0
        self.stats = [np.inf, -np.inf, 0.0, 0]  # min, max, sum, elements

    @property
    def messages(self) -> int:
        return self.count

    def add(self, data: Any) -> None:
        value = np.asarray(data.value)
        if (self.width is None) != (value.ndim == 0) or (self.width is not None and value.shape != (self.width,)):
            self.skipped += 1  # a log must keep one shape; the raw log still has the message
            return
        self.time.append(np.asarray([data.timestamp_unix_ns], dtype=np.uint64))
        self.value.append(value.reshape(1, *value.shape))
        self.count += 1
        if self.count % F144_CUE_INTERVAL == 0:
            self.cue_index.append(np.asarray([self.count - 1], dtype=np.int64))
            self.cue_time.append(np.asarray([data.timestamp_unix_ns], dtype=np.int64))
        if value.size:
            self.stats = [min(self.stats[0], float(value.min())), max(self.stats[1], float(value.max())),
                          self.stats[2] + float(value.sum()), self.stats[3] + int(value.size)]

    def finish(self, units: dict[str, str], detectors: dict[str, np.ndarray]) -> None:
        self.flush()
        unit = units.get(self.source)
        if unit is not None:
            self.value.dataset.attrs["units"] = unit
        self.group.attrs["messages"] = self.count
        if self.skipped:
            self.group.attrs["skipped_messages"] = self.skipped
        low, high, total, elements = self.stats
        if elements:
            for name, number in (("minimum_value", low), ("maximum_value", high), ("average_value", total / elements)):
                ds = self.group.create_dataset(name, data=number)
                if unit is not None:
                    ds.attrs["units"] = unit
