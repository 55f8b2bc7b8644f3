"""Data-save integrity: every produced message is in the recording exactly once, byte for byte.

What was produced comes from the players' reports in the journal (messages and bytes per
trigger); what was saved comes from the recording's raw log. Each message's payload is
compared with the CRC-32 its producer put in the ``donki.crc32`` header.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from harness.checks.digest import RecordLike, payload_crc, payload_length
from harness.checks.result import CheckResult, Finding
from harness.headers import DonkiHeaders
from harness.orchestra.journal import EventKind, Journal, JournalEvent

__all__ = ["check_integrity", "assert_integrity", "player_streams"]


def player_streams(journal: Iterable[JournalEvent]) -> dict[str, list[str]]:
    """Player name -> the streams it registered with (from PLAYER_JOINED details)."""
    found: dict[str, list[str]] = {}
    for e in journal:
        if e.kind is EventKind.PLAYER_JOINED and e.player:
            found[e.player] = list(e.detail_json().get("streams") or [])
    return found


def _where(r: RecordLike) -> str:
    return f"topic {r.topic} partition {r.partition} offset {r.offset}"


def _located(message: str, meta: DonkiHeaders, r: RecordLike) -> Finding:
    return Finding(message, stream=meta.stream, topic=r.topic, partition=r.partition, offset=r.offset,
                   trigger=meta.trigger)


def _bytes_findings(records: Sequence[RecordLike]) -> tuple[list[Finding], dict[tuple[str, int], list[RecordLike]]]:
    """CRC and exactly-once per (stream, seq); returns the records grouped by (stream, trigger)."""
    findings: list[Finding] = []
    seen: dict[tuple[str, int], RecordLike] = {}
    by_trigger: dict[tuple[str, int], list[RecordLike]] = defaultdict(list)
    for r in records:
        meta = r.donki
        if meta is None:
            continue
        actual = payload_crc(r)
        if actual != meta.crc32:
            findings.append(_located(
                f"stream {meta.stream!r} seq {meta.seq} (trigger {meta.trigger}) at {_where(r)}: payload of "
                f"{payload_length(r)} bytes has crc32 {actual}, its producer's header says {meta.crc32}: "
                "the saved bytes differ from the produced ones", meta, r))
        key = (meta.stream, meta.seq)
        if key in seen:
            findings.append(_located(f"stream {meta.stream!r} seq {meta.seq} saved twice: at {_where(seen[key])} "
                                     f"and at {_where(r)}", meta, r))
        else:
            seen[key] = r
            by_trigger[(meta.stream, meta.trigger)].append(r)
    return findings, by_trigger


def check_integrity(
    journal: Journal | Iterable[JournalEvent],
    records: Iterable[RecordLike],
    *,
    streams_of: Mapping[str, Sequence[str]] | None = None,
) -> CheckResult:
    """Compare each acked (trigger, player) report with the saved messages of its streams.

    ``records`` are :class:`~harness.records.RecordLike` objects or their digests.

    ``streams_of`` maps player names to their stream names; by default it is read from the
    journal's PLAYER_JOINED events.
    """
    events = sorted(journal, key=lambda e: e.seq)
    ordered = sorted(records, key=lambda r: (r.topic, r.partition, r.offset))
    mapping = dict(streams_of) if streams_of is not None else player_streams(events)
    findings, by_trigger = _bytes_findings(ordered)
    reported_messages = reported_bytes = 0
    for ack in events:
        if ack.kind is not EventKind.ACK or ack.trigger is None:
            continue
        streams = (mapping.get(ack.player) if ack.player is not None else None) or []
        if not streams:
            findings.append(Finding(f"player {ack.player!r} acked trigger {ack.trigger} but registered no stream, "
                                    "so its messages cannot be matched", trigger=ack.trigger, player=ack.player))
            continue
        saved = [r for s in streams for r in by_trigger.get((s, ack.trigger), [])]
        want_n, want_b = ack.counts.get("messages", 0), ack.counts.get("bytes", 0)
        got_n, got_b = len(saved), sum(payload_length(r) for r in saved)
        reported_messages, reported_bytes = reported_messages + want_n, reported_bytes + want_b
        if (want_n, want_b) != (got_n, got_b):
            findings.append(Finding(
                f"player {ack.player!r} trigger {ack.trigger}: reported {want_n} message(s) / {want_b} bytes on "
                f"{', '.join(map(repr, streams))}, the recording has {got_n} / {got_b}",
                trigger=ack.trigger, player=ack.player, stream=streams[0]))
        failed = ack.counts.get("failed", 0)
        if failed:
            findings.append(Finding(f"player {ack.player!r} trigger {ack.trigger}: Kafka reported {failed} "
                                    "message(s) not delivered", trigger=ack.trigger, player=ack.player))
    saved_total = sum(len(v) for v in by_trigger.values())
    metrics = {"reported_messages": reported_messages, "reported_bytes": reported_bytes,
               "saved_messages": saved_total,
               "saved_bytes": sum(payload_length(r) for v in by_trigger.values() for r in v)}
    return CheckResult("integrity", tuple(findings), metrics, checked=len(ordered))


def assert_integrity(journal: Journal | Iterable[JournalEvent], records: Iterable[RecordLike], *,
                     streams_of: Mapping[str, Sequence[str]] | None = None) -> CheckResult:
    __tracebackhide__ = True
    return check_integrity(journal, records, streams_of=streams_of).assert_passed()
