"""Literal streams and journals for the checks' tests (imported by name, so the name is unique)."""

from __future__ import annotations

import json

from harness.headers import make_headers
from harness.orchestra.journal import EventKind, Journal
from harness.records import KafkaRecord


def record(stream, trigger, seq, payload=b"payload", *, topic="t", partition=0, offset=None, ts_ms=None, received=0.0,
           crc_of=None):
    headers = make_headers(stream, trigger, seq, payload if crc_of is None else crc_of)
    return KafkaRecord(topic, partition, seq if offset is None else offset,
                       1_700_000_000_000 + trigger * 100 if ts_ms is None else ts_ms, 1, None, payload,
                       tuple(headers), received)


def stream_records(stream, count, per_trigger=1, **kwargs):
    out, seq = [], 0
    for trigger in range(1, count + 1):
        for _ in range(per_trigger):
            out.append(record(stream, trigger, seq, f"{stream}-{seq}".encode(), **kwargs))
            seq += 1
    return out


class JournalBuilder:
    """Writes a journal the way a director would."""

    def __init__(self):
        self.journal = Journal()

    def join(self, player, priority=0, divisor=1, streams=None):
        detail = json.dumps({"priority": priority, "divisor": divisor, "streams": streams or [player], "protocol": 1})
        self.journal.record(EventKind.PLAYER_JOINED, player=player, level=priority, detail=detail)
        return self

    def send(self, trigger, player, level=0):
        self.journal.record(EventKind.TRIGGER_SENT, trigger=trigger, player=player, level=level, attempt=1)
        return self

    def ack(self, trigger, player, level=0, messages=1, nbytes=None, latency=0.001, **counts):
        c = {"messages": messages, "bytes": nbytes if nbytes is not None else messages * 7, "failed": 0, **counts}
        self.journal.record(EventKind.ACK, trigger=trigger, player=player, level=level, latency_s=latency, counts=c)
        return self

    def event(self, kind, **fields):
        self.journal.record(kind, **fields)
        return self


