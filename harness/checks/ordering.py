"""Ordering: per-stream sequence numbers, trigger numbers and ESS message ids, per partition.

:class:`OrderingCheck` is fed one message at a time in the order the recording holds
them (per partition, offset order) and keeps, per stream, the ranges of sequence
numbers seen and, per partition, the last message: memory follows the gaps, not the
message count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from harness.checks.digest import RecordLike, ev44_identity, identity_of
from harness.checks.findings import FindingLog
from harness.checks.result import CheckResult, Finding
from harness.checks.seqranges import Place, SeqRange, SeqRanges
from harness.checks.timing import DataTimeOrder

__all__ = ["OrderingCheck", "check_ordering", "assert_ordering", "ev44_identity"]


def _place(r: RecordLike, trigger: int | None = None) -> Place:
    return Place(r.topic, r.partition, r.offset, trigger)


def _located(message: str, at: Place, stream: str | None) -> Finding:
    return Finding(message, stream=stream, topic=at.topic, partition=at.partition, offset=at.offset,
                   trigger=at.trigger)


class OrderingCheck:
    """Sequence numbers, triggers, ev44 message ids and data times, one message at a time.

    Data times per source must not go backwards and a Kafka create time must equal the
    data time (ms), see :class:`harness.checks.timing.DataTimeOrder`. ``expected_counts``
    (per stream, e.g. from the players' acks) makes missing messages at the end of a
    stream visible too.
    """

    def __init__(self, expected_counts: Mapping[str, int] | None = None) -> None:
        self._expected = dict(expected_counts or {})
        self._seqs: dict[str, SeqRanges] = defaultdict(SeqRanges)
        self._counts: dict[str, int] = defaultdict(int)
        # (stream, topic, partition) -> seq, trigger, offset of the last message
        self._last: dict[tuple[str, str, int], tuple[int, int, int]] = {}
        self._message_ids: dict[tuple[str, int, str], tuple[int, int]] = {}  # -> message id, offset
        self._times = DataTimeOrder()
        self._findings = FindingLog()
        self._checked = self._ev44 = 0

    def feed(self, r: RecordLike) -> None:
        self._checked += 1
        meta = r.donki
        if meta is not None:
            self._sequence(r, meta.stream, meta.seq, meta.trigger)
        if r.schema == "ev44":
            self._message_id(r)
        for finding in self._times.feed(r):
            self._findings.add(finding)

    def _sequence(self, r: RecordLike, stream: str, seq: int, trigger: int) -> None:
        at = _place(r, trigger)
        self._counts[stream] += 1
        held = self._seqs[stream].add(seq, at)
        key = (stream, r.topic, r.partition)
        previous = self._last.get(key)
        if held is not None:
            first = held.place_of(seq)
            where = (f"first at offset {first.offset}" if first is not None and first.topic == r.topic
                     and first.partition == r.partition else f"first at {first}" if first is not None
                     else f"first saved between {held.low_at} and {held.high_at}")
            self._findings.add(_located(f"stream {stream!r}: seq {seq} duplicated at {at} ({where})", at, stream))
        elif previous is not None and seq < previous[0]:
            self._findings.add(_located(f"stream {stream!r}: seq {seq} at {at} comes after seq {previous[0]} at "
                                        f"offset {previous[2]} (reordered)", at, stream))
        if previous is not None and trigger < previous[1]:
            self._findings.add(_located(f"stream {stream!r}: trigger {trigger} at {at} comes after trigger "
                                        f"{previous[1]} at offset {previous[2]}", at, stream))
        if previous is None or held is None:
            self._last[key] = (seq, trigger, r.offset)

    def _message_id(self, r: RecordLike) -> None:
        source, message_id = identity_of(r)
        key = (r.topic, r.partition, source)
        self._ev44 += 1
        if key in self._message_ids:
            previous_id, previous_offset = self._message_ids[key]
            if message_id != previous_id + 1:
                at = _place(r, r.donki.trigger if r.donki else None)
                self._findings.add(_located(
                    f"ev44 source {source!r}: message_id {message_id} at {at} follows message_id {previous_id} "
                    f"at offset {previous_offset}, expected {previous_id + 1}", at,
                    r.donki.stream if r.donki else None))
        self._message_ids[key] = (message_id, r.offset)

    def _gaps(self, stream: str, seqs: SeqRanges) -> None:
        for first, last, before, after in seqs.gaps(self._expected.get(stream)):
            self._findings.add(_gap_finding(stream, first, last, before, after))

    def result(self) -> CheckResult:
        for stream, seqs in self._seqs.items():
            self._gaps(stream, seqs)
        for stream, count in self._expected.items():
            if stream not in self._seqs and count:
                self._findings.add(Finding(f"stream {stream!r}: {count} message(s) expected, none found",
                                           stream=stream))
        metrics = {"streams": {s: {"messages": n} for s, n in self._counts.items()}, "ev44_messages": self._ev44,
                   "timed_messages": self._times.checked}
        return self._findings.result("ordering", metrics, checked=self._checked)


def _gap_finding(stream: str, first: int, last: int, before: SeqRange | None, after: SeqRange | None) -> Finding:
    context = []
    if before is not None:
        context.append(f"after seq {before.high} at {before.high_at}")
    if after is not None:
        context.append(f"before seq {after.low} at {after.low_at}")
    what = f"seq {first} missing" if first == last else f"seq {first}..{last} missing ({last - first + 1} messages)"
    message = f"stream {stream!r}: {what}" + (f" ({', '.join(context)})" if context else "")
    anchor = after.low_at if after is not None else before.high_at if before is not None else None
    return _located(message, anchor, stream) if anchor is not None else Finding(message, stream=stream)


def check_ordering(records: Iterable[RecordLike], expected_counts: Mapping[str, int] | None = None) -> CheckResult:
    """:class:`OrderingCheck` over ``records`` (messages or their digests, in any order)."""
    check = OrderingCheck(expected_counts)
    for r in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        check.feed(r)
    return check.result()


def assert_ordering(records: Iterable[RecordLike], expected_counts: Mapping[str, int] | None = None) -> CheckResult:
    __tracebackhide__ = True
    return check_ordering(records, expected_counts).assert_passed()
