"""The one in-memory form of a Kafka message, shared by recorder, reader, replayer and checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.headers import DonkiHeaders, parse_headers

__all__ = [
    "RecordHead",
    "KafkaRecord",
    "schema_id",
    "TIMESTAMP_NOT_AVAILABLE",
    "TIMESTAMP_CREATE_TIME",
    "TIMESTAMP_LOG_APPEND_TIME",
]

# the values confluent_kafka uses in Message.timestamp()[0]
TIMESTAMP_NOT_AVAILABLE = 0
TIMESTAMP_CREATE_TIME = 1
TIMESTAMP_LOG_APPEND_TIME = 2


def schema_id(payload: bytes | memoryview) -> str:
    """The FlatBuffers file identifier (bytes 4-8, e.g. ``"ev44"``), or ``""`` if there is none."""
    if len(payload) < 8:
        return ""
    ident = bytes(payload[4:8])
    return ident.decode("ascii") if all(48 <= b < 123 and chr(b).isalnum() for b in ident) else ""


@dataclass(frozen=True)
class RecordHead:
    """Where a message sits in Kafka and when: what a message and its digest
    (:class:`harness.checks.digest.RecordDigest`) have in common, declared once."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    timestamp_type: int
    key: bytes | None


@dataclass(frozen=True)
class KafkaRecord(RecordHead):
    """One consumed (or to-be-replayed) Kafka message, exactly as the broker held it.

    ``received`` is the wall-clock time (seconds) at which the recorder got it.
    """

    value: bytes
    headers: tuple[tuple[str, bytes | None], ...] = ()
    received: float = 0.0

    @property
    def schema(self) -> str:
        return schema_id(self.value)

    @property
    def donki(self) -> DonkiHeaders | None:
        """The harness headers (stream, trigger, seq, crc32), ``None`` for foreign messages."""
        return parse_headers(self.headers)

    @classmethod
    def from_message(cls, message: Any, received: float) -> KafkaRecord:
        """From a confluent_kafka ``Message`` (without error)."""
        ts_type, ts = message.timestamp()
        return cls(
            topic=message.topic(),
            partition=message.partition(),
            offset=message.offset(),
            timestamp_ms=ts,
            timestamp_type=ts_type,
            key=message.key(),
            value=message.value() or b"",
            headers=tuple(message.headers() or ()),
            received=received,
        )
