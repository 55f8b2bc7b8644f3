"""Ordering: per-stream sequence numbers, trigger numbers and ESS message ids, per partition."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from harness.checks.digest import RecordLike, ev44_identity, identity_of
from harness.checks.result import CheckResult, Finding
from harness.headers import DonkiHeaders

__all__ = ["check_ordering", "assert_ordering", "ev44_identity"]


def _where(r: RecordLike) -> str:
    return f"topic {r.topic} partition {r.partition} offset {r.offset}"


def _finding(message: str, r: RecordLike, stream: str | None = None) -> Finding:
    meta = r.donki
    return Finding(message, stream=stream or (meta.stream if meta else None), topic=r.topic,
                   partition=r.partition, offset=r.offset, trigger=meta.trigger if meta else None)


def _partition_order(stream: str, rows: list[RecordLike], findings: list[Finding]) -> None:
    """Within one partition: seq strictly increasing, trigger never decreasing."""
    seen: dict[int, RecordLike] = {}
    previous: tuple[RecordLike, DonkiHeaders] | None = None
    for r in rows:
        meta = r.donki
        if meta is None:
            continue  # check_ordering groups harness messages only
        if meta.seq in seen:
            first = seen[meta.seq]
            findings.append(_finding(f"stream {stream!r}: seq {meta.seq} duplicated at {_where(r)} "
                                     f"(first at offset {first.offset})", r, stream))
        elif previous is not None and meta.seq < previous[1].seq:
            findings.append(_finding(f"stream {stream!r}: seq {meta.seq} at {_where(r)} comes after seq "
                                     f"{previous[1].seq} at offset {previous[0].offset} (reordered)", r, stream))
        if previous is not None and meta.trigger < previous[1].trigger:
            findings.append(_finding(f"stream {stream!r}: trigger {meta.trigger} at {_where(r)} comes after "
                                     f"trigger {previous[1].trigger} at offset {previous[0].offset}", r, stream))
        seen.setdefault(meta.seq, r)
        previous = (r, meta)


def _gaps(stream: str, rows: list[RecordLike], expected: int | None, findings: list[Finding]) -> None:
    """Across partitions: seq values 0..N-1 all present (N = expected count or max seq + 1)."""
    by_seq = {meta.seq: r for r in rows if (meta := r.donki) is not None}
    top = expected if expected is not None else (max(by_seq) + 1 if by_seq else 0)
    missing = [s for s in range(top) if s not in by_seq]
    for seq in missing:
        before = max((s for s in by_seq if s < seq), default=None)
        after = min((s for s in by_seq if s > seq), default=None)
        context = []
        if before is not None:
            context.append(f"after seq {before} at {_where(by_seq[before])}")
        if after is not None:
            context.append(f"before seq {after} at {_where(by_seq[after])}")
        anchor = by_seq[after] if after is not None else by_seq.get(before) if before is not None else None
        message = f"stream {stream!r}: seq {seq} missing" + (f" ({', '.join(context)})" if context else "")
        findings.append(_finding(message, anchor, stream) if anchor else Finding(message, stream=stream))


def _message_ids(records: list[RecordLike], findings: list[Finding]) -> int:
    """ev44 message_id consecutive per (topic, partition, source_name)."""
    last: dict[tuple[str, int, str], tuple[int, RecordLike]] = {}
    checked = 0
    for r in records:
        if r.schema != "ev44":
            continue
        source, message_id = identity_of(r)
        key = (r.topic, r.partition, source)
        checked += 1
        if key in last:
            previous_id, previous = last[key]
            if message_id != previous_id + 1:
                findings.append(_finding(
                    f"ev44 source {source!r}: message_id {message_id} at {_where(r)} follows message_id "
                    f"{previous_id} at offset {previous.offset}, expected {previous_id + 1}", r))
        last[key] = (message_id, r)
    return checked


def check_ordering(records: Iterable[RecordLike], expected_counts: dict[str, int] | None = None) -> CheckResult:
    """Check sequence numbers, triggers and ev44 message ids.

    ``records`` are :class:`~harness.records.RecordLike` objects or their digests
    (:mod:`harness.checks.digest`).

    ``expected_counts`` (per stream, e.g. from the players' reports) makes missing
    messages at the end of a stream visible too.
    """
    ordered = sorted(records, key=lambda r: (r.topic, r.partition, r.offset))
    streams: dict[str, list[RecordLike]] = defaultdict(list)
    for r in ordered:
        if r.donki is not None:
            streams[r.donki.stream].append(r)
    findings: list[Finding] = []
    for stream, rows in streams.items():
        partitions: dict[tuple[str, int], list[RecordLike]] = defaultdict(list)
        for r in rows:
            partitions[(r.topic, r.partition)].append(r)
        for part_rows in partitions.values():
            _partition_order(stream, part_rows, findings)
        _gaps(stream, rows, (expected_counts or {}).get(stream), findings)
    for stream, count in (expected_counts or {}).items():
        if stream not in streams and count:
            findings.append(Finding(f"stream {stream!r}: {count} message(s) expected, none found", stream=stream))
    ev44 = _message_ids(ordered, findings)
    findings.sort(key=lambda f: (f.topic or "", f.partition or 0, f.offset if f.offset is not None else -1))
    metrics = {"streams": {s: {"messages": len(rows)} for s, rows in streams.items()}, "ev44_messages": ev44}
    return CheckResult("ordering", tuple(findings), metrics, checked=len(ordered))


def assert_ordering(records: Iterable[RecordLike], expected_counts: dict[str, int] | None = None) -> CheckResult:
    __tracebackhide__ = True
    return check_ordering(records, expected_counts).assert_passed()
