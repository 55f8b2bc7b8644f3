"""NeXus views against the raw log: the decoded raw messages must equal what the views hold.

The expected arrays are rebuilt here from the raw payloads with ``streaming_data_types``
(not with the code that wrote the views), following the ESS file writer's layout: per
ev44 source ``event_time_zero``/``event_index`` (one entry per reference time of
messages with events), ``event_id``, ``event_time_offset``; per f144 source ``time`` and
``value``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from harness.checks.result import CheckResult, Finding

__all__ = ["check_views", "expected_views"]

_EVENT_FIELDS = ("event_time_zero", "event_index", "event_id", "event_time_offset")
_LOG_FIELDS = ("time", "value")


def _event_arrays(payloads: list[bytes]) -> dict[str, np.ndarray]:
    from streaming_data_types import deserialise_ev44

    zero, index, ids, offsets, total = [], [], [], [], 0
    for payload in payloads:
        data = deserialise_ev44(payload)
        tof = np.asarray(data.time_of_flight)
        ids.append(np.asarray(data.pixel_id).reshape(-1))
        offsets.append(tof)
        if len(tof):
            zero.append(np.asarray(data.reference_time).reshape(-1))
            index.append(np.asarray(data.reference_time_index).reshape(-1) + total)
            total += len(tof)
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0)  # noqa: E731
    return {"event_time_zero": cat(zero), "event_index": cat(index), "event_id": cat(ids),
            "event_time_offset": cat(offsets)}


def _log_arrays(payloads: list[bytes]) -> dict[str, np.ndarray]:
    from streaming_data_types import deserialise_f144

    decoded = [deserialise_f144(p) for p in payloads]
    values = [np.asarray(d.value) for d in decoded]
    return {"time": np.asarray([d.timestamp_unix_ns for d in decoded], dtype=np.uint64),
            "value": np.stack(values) if values else np.zeros(0)}


def expected_views(recording: Any) -> dict[tuple[str, str, str], dict[str, np.ndarray]]:
    """(schema, topic, source) -> the arrays its view must hold, from the raw log."""
    from harness.checks.ordering import ev44_identity

    grouped: dict[tuple[str, str, str], list[bytes]] = defaultdict(list)
    for record in recording.records():
        if record.schema == "ev44":
            grouped[("ev44", record.topic, ev44_identity(record.value)[0])].append(record.value)
        elif record.schema == "f144":
            from streaming_data_types.fbschemas.logdata_f144.f144_LogData import f144_LogData as LogData

            source = (LogData.GetRootAsf144_LogData(record.value, 0).SourceName() or b"").decode()
            grouped[("f144", record.topic, source)].append(record.value)
    return {key: (_event_arrays if key[0] == "ev44" else _log_arrays)(payloads) for key, payloads in grouped.items()}


def _view_groups(h5: Any) -> dict[tuple[str, str, str], Any]:
    found = {}

    def visit(name: str, obj: Any) -> None:
        cls = obj.attrs.get("NX_class") if hasattr(obj, "attrs") else None
        cls = cls.decode() if isinstance(cls, bytes) else cls
        if cls in ("NXevent_data", "NXlog") and "topic" in obj.attrs:
            schema = "ev44" if cls == "NXevent_data" else "f144"
            found[(schema, str(obj.attrs["topic"]), str(obj.attrs.get("source_name", "")))] = obj

    if "entry" in h5:
        h5["entry"].visititems(visit)
    return found


def check_views(recording: Any) -> CheckResult:
    """Every ev44/f144 source has a view, and each view equals the decoded raw messages.

    ``recording`` is an open :class:`~harness.recording.Recording`.
    """
    expected = expected_views(recording)
    groups = _view_groups(recording.h5)
    findings: list[Finding] = []
    for key, arrays in sorted(expected.items()):
        schema, topic, source = key
        label = f"{schema} source {source!r} on topic {topic}"
        group = groups.get(key)
        if group is None:
            findings.append(Finding(f"{label}: no NeXus view in {recording.path}", topic=topic))
            continue
        for field, want in arrays.items():
            if field not in group:
                findings.append(Finding(f"{label}: view {group.name} lacks dataset {field!r}", topic=topic))
                continue
            have = group[field][()]
            if have.shape != want.shape or not np.array_equal(have.astype(np.float64), want.astype(np.float64)):
                where = _first_mismatch(have, want)
                findings.append(Finding(f"{label}: {group.name}/{field} differs from the raw log ({where})",
                                        topic=topic))
    for key in sorted(set(groups) - set(expected)):
        findings.append(Finding(f"view {groups[key].name} has no messages in the raw log", topic=key[1]))
    return CheckResult("views", tuple(findings), {"views": len(groups)}, checked=len(expected))


def _first_mismatch(have: np.ndarray, want: np.ndarray) -> str:
    if have.shape != want.shape:
        return f"shape {have.shape}, raw log gives {want.shape}"
    flat_have, flat_want = have.reshape(len(have), -1), want.reshape(len(want), -1)
    row = int(np.argmax(np.any(flat_have != flat_want, axis=1)))
    return f"first at element {row}: {have[row]!r}, raw log gives {want[row]!r}"
