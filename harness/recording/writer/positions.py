"""Where a recorder starts reading: earliest, latest, or the first message at a time."""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass
from typing import Any, Sequence

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
    def parse(cls, value: Any) -> "StartPosition":
        """From ``"earliest"``, ``"latest"``, epoch seconds, an ISO 8601 time or a datetime."""
        if isinstance(value, StartPosition):
            return value
        if isinstance(value, _dt.datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
            return cls("timestamp", int(moment.timestamp() * 1000))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls("timestamp", int(value * 1000))
        text = str(value).strip()
        if text in ("earliest", "latest"):
            return cls(text)
        try:
            return cls("timestamp", int(float(text) * 1000))
        except ValueError:
            pass
        try:
            return cls.parse(_dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            raise ConfigError(
                f"start position {value!r} is not valid; expected 'earliest', 'latest', seconds since the "
                f"Unix epoch (1700000000.5) or an ISO 8601 time (2024-05-01T12:00:00Z)"
            ) from None

    def describe(self) -> str:
        if self.kind != "timestamp":
            return self.kind
        moment = _dt.datetime.fromtimestamp(self.timestamp_ms / 1000, _dt.timezone.utc)
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
