"""What the checks need of a message, without its payload.

A full-length ESS run holds gigabytes of payloads; the checks need only each message's
place, headers, timestamps, schema, length and CRC-32 (and an ev44's source and message
id). :func:`digest` computes those while a recording streams by, so checks run in memory
proportional to the message count, not to the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from harness.checks.times import DataTime, data_time_of
from harness.headers import DonkiHeaders, crc32_hex, parse_headers
from harness.records import KafkaRecord, RecordHead, schema_id

__all__ = ["RecordDigest", "RecordLike", "digest", "digests", "payload_crc", "payload_length", "ev44_identity",
           "identity_of", "data_time"]


def ev44_identity(payload: bytes) -> tuple[str, int]:
    """(source_name, message_id) of an ev44 payload, without decoding the event arrays."""
    from streaming_data_types.fbschemas.eventdata_ev44.Event44Message import Event44Message

    event = Event44Message.GetRootAs(payload, 0)
    return (event.SourceName() or b"").decode("utf-8", "replace"), event.MessageId()


@dataclass(frozen=True)
class RecordDigest(RecordHead):
    """A message's metadata and payload fingerprint (no payload)."""

    headers: tuple[tuple[str, bytes | None], ...]
    received: float
    schema: str
    length: int
    crc32: str
    ev44: tuple[str, int] | None = None
    data_time: DataTime | None = None
    meta: DonkiHeaders | None = None  # the harness headers, parsed once

    @property
    def donki(self) -> DonkiHeaders | None:
        return self.meta


#: What the checks take: whole messages or their digests.
RecordLike = KafkaRecord | RecordDigest


def digest(record: KafkaRecord) -> RecordDigest:
    """The digest of one message."""
    schema = schema_id(record.value)
    ev44 = ev44_identity(record.value) if schema == "ev44" else None
    return RecordDigest(record.topic, record.partition, record.offset, record.timestamp_ms, record.timestamp_type,
                        record.key, record.headers, record.received, schema, len(record.value),
                        crc32_hex(record.value), ev44, data_time_of(record.value), parse_headers(record.headers))


def digests(records: Iterable[KafkaRecord]) -> Iterator[RecordDigest]:
    """Digests of a stream of messages (each payload is dropped once digested)."""
    return map(digest, records)


def payload_crc(record: RecordLike) -> str:
    """CRC-32 of a record's payload (a digest carries it ready)."""
    return record.crc32 if isinstance(record, RecordDigest) else crc32_hex(record.value)


def payload_length(record: RecordLike) -> int:
    return record.length if isinstance(record, RecordDigest) else len(record.value)


def identity_of(record: RecordLike) -> tuple[str, int]:
    """(source, message_id) of an ev44 record or digest."""
    if isinstance(record, RecordDigest):
        assert record.ev44 is not None
        return record.ev44
    return ev44_identity(record.value)


def data_time(record: RecordLike) -> DataTime | None:
    """Source and data time of a record or digest (``None`` if its payload has none)."""
    return record.data_time if isinstance(record, RecordDigest) else data_time_of(record.value)
