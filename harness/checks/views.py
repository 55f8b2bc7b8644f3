"""NeXus views against the raw log: the decoded raw messages must equal what the views hold.

The expected values are decoded here from the raw payloads with ``streaming_data_types``
(not with the code that wrote the views), following the ESS file writer's layout: per
ev44 source ``event_time_offset`` and ``event_id`` for every event, and
``event_time_zero``/``event_index`` for every reference time of a message with events;
per f144 source ``time`` and ``value`` (one row per message of the view's value shape).
The comparison streams message by message against block-wise reads of the views, so a
full-length run is checked in bounded memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.checks.result import CheckResult, Finding

__all__ = ["check_views", "ViewsCheck"]

BLOCK = 1 << 18  # view elements read at a time


class _Cursor:
    """Sequential reads of a 1-D (or row-wise 2-D) dataset, served from cached blocks."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self.size = dataset.shape[0]
        self.pos = 0
        self._block: np.ndarray = dataset[0:0]  # an h5py dataset reads as numpy arrays
        self._block_start = 0

    def take(self, n: int) -> np.ndarray | None:
        """The next ``n`` rows, ``None`` if the dataset ends first."""
        if self.pos + n > self.size:
            return None
        end = self.pos + n
        if not (self._block_start <= self.pos and end <= self._block_start + len(self._block)):
            self._block_start = self.pos
            self._block = self.dataset[self.pos:min(self.size, self.pos + max(n, BLOCK))]
        out = self._block[self.pos - self._block_start:end - self._block_start]
        self.pos = end
        return out


class _View:
    """One view group and what has been compared so far."""

    def __init__(self, label: str, group: Any, fields: tuple[str, ...]) -> None:
        self.label = label
        self.group = group
        self.cursors = {f: _Cursor(group[f]) for f in fields if f in group}
        self.missing = [f for f in fields if f not in group]
        self.problem: str | None = None
        self.events = 0
        self.skipped = 0

    def compare(self, field: str, want: np.ndarray, where: str) -> None:
        if self.problem is not None or field not in self.cursors:
            return
        have = self.cursors[field].take(len(want))
        if have is None:
            self.problem = f"{self.group.name}/{field} ends before the raw log does ({where})"
        elif have.shape != want.shape or not np.array_equal(have, want):
            row = _first_difference(have, want)
            self.problem = (f"{self.group.name}/{field} differs from the raw log at {where} "
                            f"(element {row}: {have[row]!r}, raw log gives {want[row]!r})")

    def finish(self) -> str | None:
        if self.missing:
            return f"view {self.group.name} lacks dataset(s) {self.missing}"
        if self.problem is None:
            for field, cursor in self.cursors.items():
                if cursor.pos != cursor.size:
                    return f"{self.group.name}/{field} holds {cursor.size} entries, the raw log gives {cursor.pos}"
        return self.problem


def _first_difference(have: np.ndarray, want: np.ndarray) -> int:
    if have.shape != want.shape:
        return 0
    flat = np.any(have.reshape(len(have), -1) != want.reshape(len(want), -1), axis=1)
    return int(np.argmax(flat))


def _view_groups(h5: Any) -> dict[tuple[str, str, str], Any]:
    found = {}

    def visit(_name: str, obj: Any) -> None:
        cls = obj.attrs.get("NX_class") if hasattr(obj, "attrs") else None
        cls = cls.decode() if isinstance(cls, bytes) else cls
        if cls in ("NXevent_data", "NXlog") and "topic" in obj.attrs:
            schema = "ev44" if cls == "NXevent_data" else "f144"
            found[(schema, str(obj.attrs["topic"]), str(obj.attrs.get("source_name", "")))] = obj

    if "entry" in h5:
        h5["entry"].visititems(visit)
    return found


def _compare_ev44(view: _View, payload: bytes, where: str) -> None:
    from streaming_data_types import deserialise_ev44

    data = deserialise_ev44(payload)
    tof = np.asarray(data.time_of_flight)
    view.compare("event_time_offset", tof.astype(np.int64), where)
    view.compare("event_id", np.asarray(data.pixel_id).reshape(-1).astype(np.int64), where)
    if len(tof):
        view.compare("event_time_zero", np.asarray(data.reference_time).reshape(-1).astype(np.int64), where)
        index = np.asarray(data.reference_time_index).reshape(-1).astype(np.int64) + view.events
        view.compare("event_index", index, where)
        view.events += len(tof)


def _compare_f144(view: _View, payload: bytes, where: str) -> None:
    from streaming_data_types import deserialise_f144

    data = deserialise_f144(payload)
    value = np.asarray(data.value)
    if "value" in view.cursors and value.shape != view.cursors["value"].dataset.shape[1:]:
        view.skipped += 1  # a log keeps one value shape; the writer leaves such a message out
        return
    view.compare("time", np.asarray([data.timestamp_unix_ns], dtype=np.uint64), where)
    view.compare("value", value.reshape(1, *value.shape), where)


def _source_of(record: Any) -> str:
    if record.schema == "ev44":
        from harness.checks.digest import ev44_identity

        return ev44_identity(record.value)[0]
    from streaming_data_types.fbschemas.logdata_f144.f144_LogData import f144_LogData

    return (f144_LogData.GetRootAsf144_LogData(record.value, 0).SourceName() or b"").decode()


FIELDS = {"ev44": ("event_time_offset", "event_id", "event_time_zero", "event_index"), "f144": ("time", "value")}


class ViewsCheck:
    """The views check fed one message at a time, so it can share a pass over a recording.

    Feed every message of ``recording`` (others than ev44/f144 are ignored), in recording
    order, then take :meth:`result`.
    """

    def __init__(self, recording: Any) -> None:
        self.path = recording.path
        self.groups = _view_groups(recording.h5)
        self.views: dict[tuple[str, str, str], _View | None] = {}
        self.findings: list[Finding] = []

    def feed(self, record: Any) -> None:
        if record.schema not in FIELDS:
            return
        key = (record.schema, record.topic, _source_of(record))
        if key not in self.views:
            group = self.groups.get(key)
            label = f"{key[0]} source {key[2]!r} on topic {key[1]}"
            if group is None:
                self.findings.append(Finding(f"{label}: no NeXus view in {self.path}", topic=key[1]))
            self.views[key] = None if group is None else _View(label, group, FIELDS[key[0]])
        view = self.views[key]
        if view is not None:
            where = f"topic {record.topic} partition {record.partition} offset {record.offset}"
            (_compare_ev44 if record.schema == "ev44" else _compare_f144)(view, record.value, where)

    def result(self) -> CheckResult:
        findings = list(self.findings)
        for key, view in self.views.items():
            if view is not None and (problem := view.finish()):
                findings.append(Finding(f"{view.label}: {problem}", topic=key[1]))
        for key in sorted(set(self.groups) - set(self.views)):
            findings.append(Finding(f"view {self.groups[key].name} has no messages in the raw log", topic=key[1]))
        return CheckResult("views", tuple(findings), {"views": len(self.groups)}, checked=len(self.views))


def check_views(recording: Any) -> CheckResult:
    """Every ev44/f144 source has a view, and each view equals the decoded raw messages.

    ``recording`` is an open :class:`~harness.recording.Recording`; only its ev44 and
    f144 messages are read.
    """
    check = ViewsCheck(recording)
    rows = recording.select()
    schemas = recording.index["schema"][rows] if len(rows) else np.zeros(0, "S4")
    for record in recording.records(rows[(schemas == b"ev44") | (schemas == b"f144")]):
        check.feed(record)
    return check.result()
