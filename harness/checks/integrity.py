"""Data-save integrity: every produced message is in the recording exactly once, byte for byte.

What was produced comes from the players' reports in the journal (messages and bytes per
trigger); what was saved comes from the recording's raw log. Each message's payload is
compared with the CRC-32 its producer put in the ``donki.crc32`` header.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from harness.checks.digest import RecordLike, payload_crc, payload_length
from harness.checks.findings import FindingLog
from harness.checks.pertrigger import TriggerColumn
from harness.checks.result import CheckResult, Finding
from harness.checks.seqranges import Place, SeqRanges
from harness.headers import DonkiHeaders
from harness.orchestra.journal import EventKind, Journal, JournalEvent

__all__ = ["IntegrityCheck", "check_integrity", "assert_integrity", "player_streams"]


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


class IntegrityCheck:
    """Compare each acked (trigger, player) report with the saved messages of its streams.

    Fed one message at a time; keeps per stream the seen sequence numbers as ranges and
    the saved messages and bytes per trigger (:class:`TriggerColumn`), not the messages.
    ``streams_of`` maps player names to their stream names; by default it is read from
    the journal's PLAYER_JOINED events.
    """

    def __init__(self, journal: Journal | Iterable[JournalEvent], *,
                 streams_of: Mapping[str, Sequence[str]] | None = None) -> None:
        self._journal = journal
        self._streams_of = dict(streams_of) if streams_of is not None else None
        self._seen: dict[str, SeqRanges] = defaultdict(SeqRanges)
        self._messages: dict[str, TriggerColumn] = defaultdict(lambda: TriggerColumn("i8", 0))
        self._bytes: dict[str, TriggerColumn] = defaultdict(lambda: TriggerColumn("i8", 0))
        self._findings = FindingLog()
        self._checked = 0

    def feed(self, r: RecordLike) -> None:
        self._checked += 1
        meta = r.donki
        if meta is None:
            return
        actual = payload_crc(r)
        if actual != meta.crc32:
            self._findings.add(_located(
                f"stream {meta.stream!r} seq {meta.seq} (trigger {meta.trigger}) at {_where(r)}: payload of "
                f"{payload_length(r)} bytes has crc32 {actual}, its producer's header says {meta.crc32}: "
                "the saved bytes differ from the produced ones", meta, r))
        at = Place(r.topic, r.partition, r.offset, meta.trigger)
        held = self._seen[meta.stream].add(meta.seq, at)
        if held is not None:
            first = held.place_of(meta.seq)
            earlier = f"at {first}" if first is not None else f"between {held.low_at} and {held.high_at}"
            self._findings.add(_located(f"stream {meta.stream!r} seq {meta.seq} saved twice: {earlier} and at "
                                        f"{_where(r)}", meta, r))
            return
        self._messages[meta.stream].add(meta.trigger, 1)
        self._bytes[meta.stream].add(meta.trigger, payload_length(r))

    def _saved(self, streams: Sequence[str], trigger: int) -> tuple[int, int]:
        return (sum(int(self._messages[s].get(trigger)) for s in streams if s in self._messages),
                sum(int(self._bytes[s].get(trigger)) for s in streams if s in self._bytes))

    def result(self) -> CheckResult:
        events = sorted(self._journal, key=lambda e: e.seq)
        mapping = self._streams_of if self._streams_of is not None else player_streams(events)
        reported_messages = reported_bytes = 0
        for ack in events:
            if ack.kind is not EventKind.ACK or ack.trigger is None:
                continue
            streams = (mapping.get(ack.player) if ack.player is not None else None) or []
            if not streams:
                self._findings.add(Finding(f"player {ack.player!r} acked trigger {ack.trigger} but registered no "
                                           "stream, so its messages cannot be matched", trigger=ack.trigger,
                                           player=ack.player))
                continue
            want_n, want_b = ack.counts.get("messages", 0), ack.counts.get("bytes", 0)
            got_n, got_b = self._saved(streams, ack.trigger)
            reported_messages, reported_bytes = reported_messages + want_n, reported_bytes + want_b
            if (want_n, want_b) != (got_n, got_b):
                self._findings.add(Finding(
                    f"player {ack.player!r} trigger {ack.trigger}: reported {want_n} message(s) / {want_b} bytes "
                    f"on {', '.join(map(repr, streams))}, the recording has {got_n} / {got_b}",
                    trigger=ack.trigger, player=ack.player, stream=streams[0]))
            failed = ack.counts.get("failed", 0)
            if failed:
                self._findings.add(Finding(f"player {ack.player!r} trigger {ack.trigger}: Kafka reported {failed} "
                                           "message(s) not delivered", trigger=ack.trigger, player=ack.player))
        metrics = {"reported_messages": reported_messages, "reported_bytes": reported_bytes,
                   "saved_messages": sum(int(v) for c in self._messages.values() for _, v in c.items()),
                   "saved_bytes": sum(int(v) for c in self._bytes.values() for _, v in c.items())}
        return self._findings.result("integrity", metrics, checked=self._checked)


def check_integrity(
    journal: Journal | Iterable[JournalEvent],
    records: Iterable[RecordLike],
    *,
    streams_of: Mapping[str, Sequence[str]] | None = None,
) -> CheckResult:
    """:class:`IntegrityCheck` over ``records`` (messages or their digests, any order)."""
    check = IntegrityCheck(journal, streams_of=streams_of)
    for r in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        check.feed(r)
    return check.result()


def assert_integrity(journal: Journal | Iterable[JournalEvent], records: Iterable[RecordLike], *,
                     streams_of: Mapping[str, Sequence[str]] | None = None) -> CheckResult:
    __tracebackhide__ = True
    return check_integrity(journal, records, streams_of=streams_of).assert_passed()
