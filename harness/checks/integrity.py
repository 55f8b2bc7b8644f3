"""Data-save integrity: every produced message is in the recording exactly once, byte for byte.

What was produced comes from the players' reports in the journal (messages and bytes per
trigger); what was saved comes from the recording's raw log. Each message's payload is
compared with the CRC-32 its producer put in the ``donki.crc32`` header.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from harness.checks.digest import payload_crc, payload_length
from harness.checks.result import CheckResult, Finding
from harness.orchestra.journal import EventKind, Journal, JournalEvent
from harness.records import KafkaRecord

__all__ = ["check_integrity", "assert_integrity", "player_streams"]


def player_streams(journal: Iterable[JournalEvent]) -> dict[str, list[str]]:
    """Player name -> the streams it registered with (from PLAYER_JOINED details)."""
    found: dict[str, list[str]] = {}
    for e in journal:
        if e.kind is EventKind.PLAYER_JOINED and e.player:
            found[e.player] = list(e.detail_json().get("streams") or [])
    return found


def _where(r: KafkaRecord) -> str:
    return f"topic {r.topic} partition {r.partition} offset {r.offset}"


def _bytes_findings(records: Sequence[KafkaRecord]) -> tuple[list[Finding], dict[tuple[str, int], list[KafkaRecord]]]:
    """CRC and exactly-once per (stream, seq); returns the records grouped by (stream, trigger)."""
    findings: list[Finding] = []
    seen: dict[tuple[str, int], KafkaRecord] = {}
    by_trigger: dict[tuple[str, int], list[KafkaRecord]] = defaultdict(list)
    for r in records:
        meta = r.donki
        if meta is None:
            continue
        where = dict(stream=meta.stream, topic=r.topic, partition=r.partition, offset=r.offset, trigger=meta.trigger)
        actual = payload_crc(r)
        if actual != meta.crc32:
            findings.append(Finding(
                f"stream {meta.stream!r} seq {meta.seq} (trigger {meta.trigger}) at {_where(r)}: payload of "
                f"{payload_length(r)} bytes has crc32 {actual}, its producer's header says {meta.crc32}: "
                "the saved bytes differ from the produced ones", **where))
        key = (meta.stream, meta.seq)
        if key in seen:
            findings.append(Finding(f"stream {meta.stream!r} seq {meta.seq} saved twice: at {_where(seen[key])} "
                                    f"and at {_where(r)}", **where))
        else:
            seen[key] = r
            by_trigger[(meta.stream, meta.trigger)].append(r)
    return findings, by_trigger


def check_integrity(
    journal: Journal | Iterable[JournalEvent],
    records: Iterable[KafkaRecord],
    *,
    streams_of: Mapping[str, Sequence[str]] | None = None,
) -> CheckResult:
    """Compare each acked (trigger, player) report with the saved messages of its streams.

    ``records`` are :class:`~harness.records.KafkaRecord` objects or their digests.

    ``streams_of`` maps player names to their stream names; by default it is read from the
    journal's PLAYER_JOINED events.
    """
    events = sorted(journal, key=lambda e: e.seq)
    ordered = sorted(records, key=lambda r: (r.topic, r.partition, r.offset))
    mapping = dict(streams_of) if streams_of is not None else player_streams(events)
    findings, by_trigger = _bytes_findings(ordered)
    reported_messages = reported_bytes = 0
    for ack in (e for e in events if e.kind is EventKind.ACK and e.trigger is not None):
        streams = mapping.get(ack.player) or []
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


def assert_integrity(journal, records, **kwargs) -> CheckResult:
    __tracebackhide__ = True
    return check_integrity(journal, records, **kwargs).assert_passed()
