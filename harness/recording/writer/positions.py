"""Where a recorder starts reading: earliest, latest, or the first message at a time."""

from __future__ import annotations

import datetime as _dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import ConfigError, TopicError

__all__ = ["StartPosition", "resolve_offsets"]

KINDS = ("earliest", "latest", "timestamp")
RETRY_S = 0.1


@dataclass(frozen=True)
class StartPosition:
    """``earliest``, ``latest`` or ``timestamp`` (``timestamp_ms`` since the Unix epoch)."""

    kind: str = "earliest"
    timestamp_ms: int | None = None

    @classmethod
    def parse(cls, value: Any) -> StartPosition:
        """From ``"earliest"``, ``"latest"``, epoch seconds, an ISO 8601 time or a datetime."""
        if isinstance(value, StartPosition):
            return value
        if isinstance(value, _dt.datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
            return cls("timestamp", _epoch_ms(moment.timestamp(), value))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls("timestamp", _epoch_ms(value, value))
        text = str(value).strip()
        if text in ("earliest", "latest"):
            return cls(text)
        try:
            seconds = float(text)
        except ValueError:
            pass
        else:
            return cls("timestamp", _epoch_ms(seconds, value))
        try:
            return cls.parse(_dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            raise ConfigError(
                f"start position {value!r} is not valid; expected 'earliest', 'latest', seconds since the "
                f"Unix epoch (1700000000.5) or an ISO 8601 time (2024-05-01T12:00:00Z)"
            ) from None

    def describe(self) -> str:
        if self.kind != "timestamp" or self.timestamp_ms is None:
            return self.kind
        moment = _dt.datetime.fromtimestamp(self.timestamp_ms / 1000, _dt.UTC)
        return f"timestamp {moment.isoformat()}"


def resolve_offsets(consumer: Any, partitions: Sequence[Any], start: StartPosition, timeout_s: float) -> list[Any]:
    """``TopicPartition`` objects with explicit offsets for ``start``.

    Offsets are resolved now, not lazily at the first fetch, so every message produced
    after this returns is recorded (a lazy "latest" could skip the first ones). A topic
    created a moment ago may briefly answer "not leader": that is retried until
    ``timeout_s``.
    """
    from confluent_kafka import KafkaException

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return _resolve(consumer, partitions, start, timeout_s)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else exc
            if not _transient(error) or time.monotonic() > deadline:
                raise TopicError(f"could not find {start.describe()} offsets of "
                                 f"{sorted({tp.topic for tp in partitions})}: {error}") from None
            time.sleep(RETRY_S)


def _transient(error: Any) -> bool:
    """Errors of a topic whose leaders are still being elected or announced."""
    from confluent_kafka import KafkaError

    codes = (KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART,
             KafkaError.REQUEST_TIMED_OUT, KafkaError._TIMED_OUT)
    code = getattr(error, "code", lambda: None)()
    return code in codes or bool(getattr(error, "retriable", lambda: False)())


def _resolve(consumer: Any, partitions: Sequence[Any], start: StartPosition, timeout_s: float) -> list[Any]:
    from confluent_kafka import TopicPartition

    if start.kind == "timestamp":
        if start.timestamp_ms is None:
            raise ConfigError("a 'timestamp' start position needs timestamp_ms; build it with StartPosition.parse")
        query = [TopicPartition(tp.topic, tp.partition, start.timestamp_ms) for tp in partitions]
        resolved = []
        for tp in consumer.offsets_for_times(query, timeout=timeout_s):
            offset = tp.offset
            if offset < 0:  # nothing at or after the time: start at the end
                offset = consumer.get_watermark_offsets(tp, timeout=timeout_s)[1]
            resolved.append(TopicPartition(tp.topic, tp.partition, offset))
        return resolved
    resolved = []
    for tp in partitions:
        low, high = consumer.get_watermark_offsets(tp, timeout=timeout_s)
        resolved.append(TopicPartition(tp.topic, tp.partition, low if start.kind == "earliest" else high))
    return resolved


MAX_EPOCH_S = 253_402_300_799  # 9999-12-31T23:59:59Z, the last time an ISO 8601 text can name


def _epoch_ms(seconds: float, given: Any) -> int:
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_EPOCH_S):
        raise ConfigError(f"start position {given!r}: expected seconds since the Unix epoch from 0 to "
                          f"{MAX_EPOCH_S} (year 9999), 'earliest' or 'latest'")
    return int(seconds * 1000)
