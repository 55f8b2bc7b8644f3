"""NeXus views of a recording, laid out as the ESS file writer (kafka-to-nexus) writes them.

For every ev44 source an ``NXevent_data`` group inside an ``NXdetector``, for every f144
source an ``NXlog``, under ``/entry/instrument``. Dataset names, dtypes and attributes
follow the file writer's ev44 and f144 modules: ``event_time_zero`` (uint64, ns since
the epoch, ``start`` attribute), ``event_index`` (int64), ``event_id`` (int32),
``event_time_offset`` (int32, ns); ``time`` (uint64, ns) and ``value``; plus the cue
datasets. As in the file writer, an ev44 message without events adds no pulse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from harness.errors import RecordingError
from harness.recording import format as fmt
from harness.recording.decode import decode_payload, f144_value_dtype
from harness.recording.meta import iso_time

__all__ = ["write_views", "DEFAULT_CUE_INTERVAL", "EPOCH"]

EPOCH = "1970-01-01T00:00:00Z"
#: The file writer's default ev44 cue interval (events); f144 writes a cue every 1000 values.
DEFAULT_CUE_INTERVAL = 100_000_000
F144_CUE_INTERVAL = 1000
_APPEND_EVERY = 1 << 20  # elements buffered per dataset before they are written


def _name(text: str) -> str:
    """An HDF5 link name from a source name (``/`` and leading dots are not allowed)."""
    return re.sub(r"[/\x00]", "_", text).lstrip(".") or "unnamed"


def _extensible(group: Any, name: str, dtype: Any, shape_tail: tuple[int, ...] = (), units: str | None = None,
                start: bool = False) -> Any:
    ds = group.create_dataset(name, (0, *shape_tail), maxshape=(None, *shape_tail), dtype=dtype,
                              chunks=(min(1 << 16, max(1, (1 << 20) // max(1, int(np.prod(shape_tail or (1,)))))),
                                      *shape_tail))
    if start:
        ds.attrs["start"] = EPOCH
    if units is not None:
        ds.attrs["units"] = units
    return ds


class _Column:
    """A dataset filled by appends, written in large pieces."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self._pending: list[np.ndarray] = []
        self._count = 0

    def append(self, values: np.ndarray) -> None:
        self._pending.append(values)
        self._count += len(values)
        if self._count >= _APPEND_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        data = np.concatenate(self._pending).astype(self.dataset.dtype, copy=False)
        start = self.dataset.shape[0]
        self.dataset.resize((start + len(data), *self.dataset.shape[1:]))
        self.dataset[start:] = data
        self._pending, self._count = [], 0


class _EventData:
    """One ev44 source -> NXdetector/NXevent_data."""

    def __init__(self, parent: Any, name: str, topic: str, source: str, cue_interval: int) -> None:
        detector = parent.create_group(name)
        detector.attrs["NX_class"] = "NXdetector"
        group = detector.create_group("events")
        group.attrs.update({"NX_class": "NXevent_data", "topic": topic, "source_name": source})
        self.group = group
        self.offset = _Column(_extensible(group, "event_time_offset", "i4", units="ns"))
        self.event_id = _Column(_extensible(group, "event_id", "i4"))
        self.time_zero = _Column(_extensible(group, "event_time_zero", "u8", units="ns", start=True))
        self.index = _Column(_extensible(group, "event_index", "i8"))
        self.cue_index = _Column(_extensible(group, "cue_index", "i8"))
        self.cue_time = _Column(_extensible(group, "cue_timestamp_zero", "i8", units="ns", start=True))
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

    def finish(self) -> None:
        for column in (self.offset, self.event_id, self.time_zero, self.index, self.cue_index, self.cue_time):
            column.flush()
        self.group.attrs["messages"] = self.messages
        self.group.attrs["events"] = self.events


class _Log:
    """One f144 source -> NXlog."""

    def __init__(self, parent: Any, name: str, topic: str, source: str, dtype: np.dtype, width: int | None,
                 units: str | None) -> None:
        group = parent.create_group(name)
        group.attrs.update({"NX_class": "NXlog", "topic": topic, "source_name": source})
        self.group = group
        self.time = _Column(_extensible(group, "time", "u8", units="ns", start=True))
        tail = () if width is None else (width,)
        self.value = _Column(_extensible(group, "value", dtype, tail, units=units if units is not None else None))
        self.cue_index = _Column(_extensible(group, "cue_index", "i8"))
        self.cue_time = _Column(_extensible(group, "cue_timestamp_zero", "i8", units="ns", start=True))
        self.width = width
        self.units = units
        self.count = 0
        self.skipped = 0
        self.stats = [np.inf, -np.inf, 0.0, 0]  # min, max, sum, elements

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

    def finish(self) -> None:
        for column in (self.time, self.value, self.cue_index, self.cue_time):
            column.flush()
        self.group.attrs["messages"] = self.count
        if self.skipped:
            self.group.attrs["skipped_messages"] = self.skipped
        low, high, total, elements = self.stats
        if elements:
            for name, number in (("minimum_value", low), ("maximum_value", high), ("average_value", total / elements)):
                ds = self.group.create_dataset(name, data=number)
                if self.units is not None:
                    ds.attrs["units"] = self.units


def _entry(h5: Any, meta: Mapping[str, Any]) -> Any:
    import h5py

    if fmt.ENTRY in h5:
        del h5[fmt.ENTRY]
    entry = h5.create_group(fmt.ENTRY)
    entry.attrs["NX_class"] = "NXentry"
    started, stopped = meta.get("started"), meta.get("stopped")
    text = h5py.string_dtype()
    if started is not None:
        entry.create_dataset("start_time", data=iso_time(float(started)), dtype=text)
    if stopped is not None:
        entry.create_dataset("end_time", data=iso_time(float(stopped)), dtype=text)
    entry.create_dataset("title", data=str(meta.get("title", "pytest-donki recording")), dtype=text)
    instrument = entry.create_group("instrument")
    instrument.attrs["NX_class"] = "NXinstrument"
    return instrument


def write_views(h5: Any, path: str, *, units: Mapping[str, str] | None = None,
                cue_interval: int = DEFAULT_CUE_INTERVAL) -> dict[str, int]:
    """(Re)write ``/entry`` from the raw log of an open, writable recording.

    ``units`` maps an f144 source name to the units of its value. Returns the number of
    messages that went into each view group.
    """
    from harness.recording.reader.reader import Recording

    recording = Recording(path, h5=h5)
    schemas = recording.index["schema"]
    rows = np.flatnonzero((schemas == b"ev44") | (schemas == b"f144"))
    instrument = _entry(h5, recording.metadata)
    views: dict[tuple[str, str, str], Any] = {}
    names: set[str] = set()
    skipped = 0
    for row, record in zip(rows.tolist(), recording.records(rows), strict=True):  # one record per row asked
        try:  # a view is a convenience: a bad payload stays in the raw log and is counted here
            data = decode_payload(record.value, f"{path} message #{row} ({record.topic})")
        except RecordingError:
            skipped += 1
            continue
        view_key = (record.schema, record.topic, data.source_name)
        if view_key not in views:
            views[view_key] = _new_view(instrument, names, record, data, units or {}, cue_interval)
        if views[view_key] is None:
            skipped += 1
            continue
        views[view_key].add(data)
    made = [view for view in views.values() if view is not None]
    for view in made:
        view.finish()
    instrument.parent.attrs["skipped_messages"] = skipped
    return {view.group.name: int(view.group.attrs["messages"]) for view in made}


def _new_view(instrument: Any, names: set[str], record: Any, data: Any, units: Mapping[str, str],
              cue_interval: int) -> Any:
    """The view object for a new source, ``None`` if it cannot have one."""
    name = _name(data.source_name or record.topic)
    if name in names:
        name = _name(f"{name}_{record.topic}")
    suffix = 2
    base = name
    while name in names:
        name, suffix = f"{base}_{suffix}", suffix + 1
    names.add(name)
    if record.schema == "ev44":
        return _EventData(instrument, name, record.topic, data.source_name, cue_interval)
    value = np.asarray(data.value)
    if value.ndim > 1:
        return None  # f144 allows 0-D and 1-D values only
    width = None if value.ndim == 0 else value.shape[0]
    return _Log(instrument, name, record.topic, data.source_name, f144_value_dtype(record.value), width,
                units.get(data.source_name))
