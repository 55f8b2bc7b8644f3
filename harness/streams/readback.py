"""Reading a topic back (tests, run verification): every record, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from harness.errors import BrokerError
from harness.records import KafkaRecord

__all__ = ["read_topic", "topic_message_count"]

_POLL_S = 0.2
_ADMIN_TIMEOUT_S = 10.0


def topic_message_count(client_config: Mapping[str, Any], topic: str, timeout_s: float = _ADMIN_TIMEOUT_S) -> int:
    """Messages in ``topic`` (high minus low watermark summed over partitions), without reading them."""
    from confluent_kafka import KafkaException, TopicPartition

    from harness.kafka.clients import make_consumer

    consumer = make_consumer(client_config)
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s)
        info = metadata.topics.get(topic)
        if info is None or info.error is not None:
            raise BrokerError(f"topic {topic!r} is not known to {client_config.get('bootstrap.servers')}")
        total = 0
        for partition in info.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout_s)
            total += high - low
        return total
    except KafkaException as exc:  # a broker gone meanwhile: one line, not a traceback
        raise BrokerError(f"could not count the messages of {topic!r} at {client_config.get('bootstrap.servers')}: "
                          f"{exc.args[0] if exc.args else exc}") from None
    finally:
        consumer.close()


def read_topic(client_config: Mapping[str, Any], topic: str, expected: int,
               timeout_s: float = 30.0) -> list[KafkaRecord]:
    """The first ``expected`` records of ``topic`` (all partitions, from the start).

    Raises :class:`BrokerError` naming how many arrived when ``timeout_s`` passes first.
    """
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition

    from harness.kafka.clients import make_consumer

    consumer = make_consumer(client_config)
    records: list[KafkaRecord] = []
    try:
        partitions = consumer.list_topics(topic, timeout=_ADMIN_TIMEOUT_S).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + timeout_s
        while len(records) < expected:
            if time.monotonic() > deadline:
                raise BrokerError(f"read {len(records)} of {expected} expected messages from {topic!r} "
                                  f"in {timeout_s:.0f} s")
            for message in consumer.consume(num_messages=max(1, expected - len(records)), timeout=_POLL_S):
                if message.error() is None:
                    records.append(KafkaRecord.from_message(message, time.time()))
        return records
    finally:
        consumer.close()
