"""Stream modules of the file-writer double: each fills one HDF5 group from one (topic, source).

Datasets, dtypes and attributes are those of kafka-to-nexus's modules (and of the
recorder's NeXus views, which follow them): ev44 -> ``event_time_zero`` (uint64 ns,
``start`` attribute), ``event_index`` (int64), ``event_id`` (int32), ``event_time_offset``
(int32 ns) and the cue datasets; f144 -> ``time`` (uint64 ns) and ``value`` with
``units``; ad00 -> ``value`` (one image per message) and ``time``; da00 -> one dataset per
variable (with its unit) and ``time``. The views live in the recording layer, which this
package must not import; what both need to append fast is the shared
:class:`~harness.chunkheap.ByteHeap` below them.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.chunkheap import ByteHeap
from harness.filewriter.structure import StreamModule

if TYPE_CHECKING:
    import h5py

__all__ = ["ModuleWriter", "EventModule", "LogModule", "AreaModule", "DataArrayModule", "make_module", "EPOCH",
           "NS_PER_MS"]

EPOCH = "1970-01-01T00:00:00Z"
NS_PER_MS = 1_000_000
EV44_CUE_INTERVAL = 100_000_000
F144_CUE_INTERVAL = 1000


class _Column:
    """An extensible dataset appended to in pieces; :meth:`flush` writes what is pending.

    A one-dimensional column (the event arrays of a 1e6-event pulse) goes through a
    :class:`~harness.chunkheap.ByteHeap`: whole chunks written straight from the message's
    arrays as they fill, no concatenation at the flush.
    """

    def __init__(self, group: h5py.Group, name: str, dtype: Any, tail: tuple[int, ...] = (),
                 units: str | None = None, start: bool = False) -> None:
        rows = max(1, min(1 << 16, (1 << 20) // max(1, int(np.prod(tail or (1,))))))
        if not tail:
            rows = max(rows, (1 << 20) // np.dtype(dtype).itemsize)  # 1 MiB chunks: few chunk writes a pulse
        self.dataset = group.create_dataset(name, (0, *tail), maxshape=(None, *tail), dtype=dtype,
                                            chunks=(rows, *tail))
        if units:
            self.dataset.attrs["units"] = units
        if start:
            self.dataset.attrs["start"] = EPOCH
        self._pending: list[np.ndarray] = []
        self._heap = None if tail else ByteHeap(self.dataset)

    def append(self, values: Any) -> None:
        if self._heap is None:
            self._pending.append(np.asarray(values))
            return
        data = np.ascontiguousarray(values, dtype=self.dataset.dtype)
        if data.size:
            self._heap.append(data.view(np.uint8).data)

    def flush(self) -> None:
        if self._heap is not None:
            self._heap.flush()
            return
        if not self._pending:
            return
        data = np.concatenate(self._pending).astype(self.dataset.dtype, copy=False)
        start = self.dataset.shape[0]
        self.dataset.resize((start + len(data), *self.dataset.shape[1:]))
        self.dataset[start:] = data
        self._pending = []

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the rows where ``mask`` is true (after writing what is pending)."""
        self.flush()
        if len(mask) != self.dataset.shape[0] or mask.all():
            return
        data = self.dataset[()][mask]
        self.dataset.resize((len(data), *self.dataset.shape[1:]))
        self.dataset[...] = data
        if self._heap is not None:
            self._heap = ByteHeap(self.dataset)  # it counts what the dataset holds now


class ModuleWriter(abc.ABC):
    """Base: the group it writes, its window (ms, inclusive) and what it has written."""

    def __init__(self, group: h5py.Group, spec: StreamModule) -> None:
        self.group = group
        self.spec = spec
        self.columns: list[_Column] = []
        self.written = 0

    def column(self, name: str, dtype: Any, tail: tuple[int, ...] = (), units: str | None = None,
               start: bool = False) -> _Column:
        col = _Column(self.group, name, dtype, tail, units, start)
        self.columns.append(col)
        return col

    @abc.abstractmethod
    def write(self, decoded: Any, start_ns: int, stop_ns: int | None) -> None:
        """Write the in-window part of one decoded message."""

    def finish(self) -> None:
        """Called once when the job ends, before the last flush (a hook: nothing by default)."""
        return

    def trim(self, stop_ns: int) -> None:
        """Drop what lies after the stop: written while the stop time was not known yet (a hook)."""
        return

    def _trim_rows(self, time: _Column | None, columns: list[_Column], stop_ns: int) -> None:
        if time is None:
            return
        time.flush()
        keep = time.dataset[()].astype(np.int64) // NS_PER_MS <= stop_ns // NS_PER_MS
        for col in [time, *columns]:
            col.keep(keep)

    def flush(self) -> None:
        for col in self.columns:
            col.flush()


def inside(time_ns: int, start_ns: int, stop_ns: int | None) -> bool:
    """[start, stop] inclusive, in ms as the run-control times are."""
    ms = int(time_ns) // NS_PER_MS
    return ms >= start_ns // NS_PER_MS and (stop_ns is None or ms <= stop_ns // NS_PER_MS)


class EventModule(ModuleWriter):
    """ev44 -> NXevent_data; a message (or pulse) without events adds no pulse."""

    def __init__(self, group: h5py.Group, spec: StreamModule) -> None:
        super().__init__(group, spec)
        self.time_zero = self.column("event_time_zero", "u8", units="ns", start=True)
        self.index = self.column("event_index", "i8")
        self.event_id = self.column("event_id", "i4")
        self.offset = self.column("event_time_offset", "i4", units="ns")
        self.cue_index = self.column("cue_index", "i8")
        self.cue_time = self.column("cue_timestamp_zero", "i8", units="ns", start=True)
        self.last_cue = 0

    def write(self, decoded: Any, start_ns: int, stop_ns: int | None) -> None:
        reference = np.asarray(decoded.reference_time, dtype=np.int64)
        starts = np.asarray(decoded.reference_time_index, dtype=np.int64)
        tof, pixels = decoded.time_of_flight, decoded.pixel_id
        bounds = list(starts[1:]) + [len(tof)]
        for pulse, (first, last) in enumerate(zip(starts, bounds, strict=True)):
            if last <= first or not inside(reference[pulse], start_ns, stop_ns):
                continue
            self.time_zero.append([reference[pulse]])
            self.index.append([self.written])
            self.offset.append(tof[first:last])
            self.event_id.append(pixels[first:last] if pixels is not None and len(pixels) else
                                 np.zeros(last - first, dtype=np.int32))
            self.written += int(last - first)
            if self.written > self.last_cue + EV44_CUE_INTERVAL:
                self.cue_index.append([self.written - 1])
                self.cue_time.append([reference[pulse] + int(tof[last - 1])])
                self.last_cue = self.written - 1

    def trim(self, stop_ns: int) -> None:
        self.flush()
        pulses = self.time_zero.dataset[()].astype(np.int64)
        keep = pulses // NS_PER_MS <= stop_ns // NS_PER_MS
        if keep.all():
            return
        starts = self.index.dataset[()]
        counts = np.diff(np.append(starts, self.event_id.dataset.shape[0]))
        events = np.repeat(keep, counts)
        self.event_id.keep(events)
        self.offset.keep(events)
        self.time_zero.keep(keep)
        self.index.keep(keep)
        self.index.dataset[...] = np.concatenate([[0], np.cumsum(counts[keep])[:-1]]).astype(np.int64)
        self.written = int(events.sum())
        self.cue_index.keep(self.cue_index.dataset[()] < self.written)
        self.cue_time.keep(np.arange(self.cue_time.dataset.shape[0]) < self.cue_index.dataset.shape[0])


class LogModule(ModuleWriter):
    """f144 -> NXlog, with the newest value from before the start and no repeated timestamp."""

    def __init__(self, group: h5py.Group, spec: StreamModule) -> None:
        super().__init__(group, spec)
        self.units = str(spec.config.get("value_units") or spec.config.get("units") or "")
        self.time: _Column | None = None
        self.value: _Column | None = None
        self.last_time: int | None = None
        self.before: Any = None  # the newest value stamped before the start, written with the first one

    def _columns(self, value: np.ndarray) -> tuple[_Column, _Column]:
        if self.time is None or self.value is None:
            self.cue_index: _Column
            self.cue_time: _Column
            self.time = self.column("time", "u8", units="ns", start=True)
            self.value = self.column("value", value.dtype, value.shape, units=self.units or None)
            self.cue_index = self.column("cue_index", "i8")
            self.cue_time = self.column("cue_timestamp_zero", "i8", units="ns", start=True)
        return self.time, self.value

    def _append(self, time_ns: int, value: Any) -> None:
        if self.last_time is not None and time_ns == self.last_time:
            return  # kafka-to-nexus drops a value whose timestamp repeats the previous one
        array = np.asarray(value)
        time_col, value_col = self._columns(array)
        time_col.append([time_ns])
        value_col.append(array[None, ...])
        self.last_time = time_ns
        self.written += 1
        if self.written % F144_CUE_INTERVAL == 0:
            self.cue_index.append([self.written - 1])
            self.cue_time.append([time_ns])

    def write(self, decoded: Any, start_ns: int, stop_ns: int | None) -> None:
        time_ns = int(decoded.timestamp_unix_ns)
        if time_ns // NS_PER_MS < start_ns // NS_PER_MS:
            if self.before is None or time_ns >= self.before[0]:
                self.before = (time_ns, decoded.value)
            return
        if not inside(time_ns, start_ns, stop_ns):
            return
        self._flush_before()
        self._append(time_ns, decoded.value)

    def _flush_before(self) -> None:
        if self.before is not None:
            before, self.before = self.before, None
            self._append(*before)

    def finish(self) -> None:
        self._flush_before()  # a log that did not change during the run still has its value

    def trim(self, stop_ns: int) -> None:
        if self.time is None or self.value is None:
            return
        self._trim_rows(self.time, [self.value], stop_ns)
        self.written = self.time.dataset.shape[0]
        self.cue_index.keep(self.cue_index.dataset[()] < self.written)
        self.cue_time.keep(np.arange(self.cue_time.dataset.shape[0]) < self.cue_index.dataset.shape[0])


class AreaModule(ModuleWriter):
    """ad00 -> ``value`` (one image per message) and ``time``."""

    def __init__(self, group: h5py.Group, spec: StreamModule) -> None:
        super().__init__(group, spec)
        self.time: _Column | None = None
        self.value: _Column | None = None

    def write(self, decoded: Any, start_ns: int, stop_ns: int | None) -> None:
        if not inside(decoded.timestamp_ns, start_ns, stop_ns):
            return
        data = np.asarray(decoded.data)
        if self.time is None or self.value is None:
            self.cue_index: _Column
            self.cue_time: _Column
            self.time = self.column("time", "u8", units="ns", start=True)
            self.value = self.column("value", data.dtype, data.shape)
        if self.value.dataset.shape[1:] != data.shape:
            return  # kafka-to-nexus skips an image whose shape differs from the first
        self.time.append([decoded.timestamp_ns])
        self.value.append(data[None, ...])
        self.written += 1

    def trim(self, stop_ns: int) -> None:
        self._trim_rows(self.time, [self.value] if self.value is not None else [], stop_ns)


class DataArrayModule(ModuleWriter):
    """da00 -> one dataset per variable (with its unit, one entry per message) and ``time``."""

    def __init__(self, group: h5py.Group, spec: StreamModule) -> None:
        super().__init__(group, spec)
        self.time: _Column | None = None
        self.variables: dict[str, _Column] = {}

    def write(self, decoded: Any, start_ns: int, stop_ns: int | None) -> None:
        if not inside(decoded.timestamp_ns, start_ns, stop_ns):
            return
        if self.time is None:
            self.time = self.column("time", "u8", units="ns", start=True)
        for var in decoded.data:
            data = np.asarray(var.data)
            col = self.variables.get(var.name)
            if col is None:
                col = self.variables[var.name] = self.column(var.name, data.dtype, data.shape, units=var.unit or None)
                if var.axes:
                    col.dataset.attrs["axes"] = ",".join(var.axes)
            if col.dataset.shape[1:] == data.shape:
                col.append(data[None, ...])
        self.time.append([decoded.timestamp_ns])
        self.written += 1

    def trim(self, stop_ns: int) -> None:
        self._trim_rows(self.time, list(self.variables.values()), stop_ns)


_MODULES: dict[str, type[ModuleWriter]] = {"ev44": EventModule, "f144": LogModule, "ad00": AreaModule,
                                           "da00": DataArrayModule}


def make_module(group: h5py.Group, spec: StreamModule) -> ModuleWriter:
    """The writer of ``spec.module`` filling ``group``."""
    group.attrs.setdefault("topic", spec.topic)
    group.attrs.setdefault("source_name", spec.source)
    return _MODULES[spec.module](group, spec)
