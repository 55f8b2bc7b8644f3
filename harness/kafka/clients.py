"""Producer and consumer settings shared by players, recorder, replayer and benchmarks."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from harness.kafka.nodeconfig import MAX_MESSAGE_BYTES
from harness.kafka.readiness import quiet_logger

if TYPE_CHECKING:
    from confluent_kafka import Consumer, Producer

__all__ = ["producer_config", "consumer_config", "make_producer", "make_consumer", "consume"]

#: Throughput first (batching, no per-message flush) but without waiting long for a batch.
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "enable.idempotence": True,
    "linger.ms": 5,
    "batch.size": 1_000_000,
    "message.max.bytes": MAX_MESSAGE_BYTES,
    "queue.buffering.max.kbytes": 1_048_576,
    "queue.buffering.max.messages": 1_000_000,
    "compression.type": "none",
}

CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "fetch.max.bytes": MAX_MESSAGE_BYTES + 1024 * 1024,
    "max.partition.fetch.bytes": MAX_MESSAGE_BYTES,
    "receive.message.max.bytes": MAX_MESSAGE_BYTES + 2 * 1024 * 1024,
    "queued.max.messages.kbytes": 1_048_576,
    "enable.partition.eof": False,
    # librdkafka pauses fetching this long whenever its queue is full enough (default 1 s):
    # a consumer that works between polls then finds the queue empty and waits
    "fetch.queue.backoff.ms": 10,
}


def producer_config(client_config: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """Settings for a confluent-kafka Producer against the cluster of ``client_config``."""
    return {"logger": quiet_logger(), **PRODUCER_DEFAULTS, **client_config, **overrides}


def consumer_config(client_config: Mapping[str, Any], group: str | None = None, **overrides: Any) -> dict[str, Any]:
    """Settings for a Consumer; a fresh group id unless one is given."""
    return {
        "logger": quiet_logger(),
        **CONSUMER_DEFAULTS,
        "group.id": group or f"donki-{uuid.uuid4().hex[:12]}",
        **client_config,
        **overrides,
    }


def make_producer(client_config: Mapping[str, Any], **overrides: Any) -> Producer:
    from confluent_kafka import Producer

    return Producer(producer_config(client_config, **overrides))


def make_consumer(client_config: Mapping[str, Any], group: str | None = None, **overrides: Any) -> Consumer:
    from confluent_kafka import Consumer

    return Consumer(consumer_config(client_config, group, **overrides))


def consume(client_config: Mapping[str, Any], topics: list[str] | str, count: int,
            timeout_s: float = 30.0) -> list[Any]:
    """Read ``count`` messages from the start of ``topics``, or fewer if the deadline passes.

    A convenience for tests and demos; errors on a message raise ``KafkaException``.
    """
    import time

    from confluent_kafka import KafkaException

    consumer = make_consumer(client_config)
    consumer.subscribe([topics] if isinstance(topics, str) else list(topics))
    got: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(got) < count and time.monotonic() < deadline:
            message = consumer.poll(min(0.2, max(deadline - time.monotonic(), 0.0)))
            if message is None:
                continue
            if message.error() is not None:
                raise KafkaException(message.error())
            got.append(message)
    finally:
        consumer.close()
    return got
