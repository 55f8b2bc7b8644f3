"""Whether a consumer group has consumed a set of topics: its committed offsets against their ends.

The primitive every consumer test needs after replaying data into a service: "has the
service's group committed everything that was sent?"
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from harness.errors import BrokerUnreachableError
from harness.kafka.clients import consumer_config

__all__ = ["group_lag", "wait_consumed", "POLL_INTERVAL_S"]

POLL_INTERVAL_S = 0.1
_REQUEST_TIMEOUT_S = 10.0


def group_lag(client_config: Mapping[str, Any], group_id: str, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """Per (topic, partition), the messages the group has not committed yet (0 when consumed through the end).

    A partition the group never committed counts all its messages.
    """
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    # a consumer that never subscribes does not join the group: it only reads its offsets
    reader = Consumer(consumer_config(client_config, group_id, **{"enable.auto.commit": False}))
    try:
        metadata = reader.list_topics(timeout=_REQUEST_TIMEOUT_S)
        partitions = [TopicPartition(topic, p) for topic in topics
                      for p in sorted(metadata.topics[topic].partitions) if topic in metadata.topics]
        committed = reader.committed(partitions, timeout=_REQUEST_TIMEOUT_S) if partitions else []
        lag = {}
        for tp in committed:
            low, high = reader.get_watermark_offsets(TopicPartition(tp.topic, tp.partition),
                                                     timeout=_REQUEST_TIMEOUT_S)
            done = tp.offset if tp.offset >= 0 else low
            lag[(tp.topic, tp.partition)] = max(0, high - done)
        return lag
    except KafkaException as exc:
        bootstrap = client_config.get("bootstrap.servers")
        raise BrokerUnreachableError(f"could not read the offsets of consumer group {group_id!r} at {bootstrap}: "
                                     f"{exc.args[0] if exc.args else exc}") from None
    finally:
        reader.close()


def wait_consumed(client_config: Mapping[str, Any], group_id: str, topics: Iterable[str],
                  timeout_s: float) -> bool:
    """Wait until ``group_id`` has committed offsets at the end of every partition of ``topics``.

    Returns ``False`` when ``timeout_s`` passes first (the lag is then in :func:`group_lag`).
    """
    names = list(topics)
    deadline = time.monotonic() + timeout_s
    while True:
        if not any(group_lag(client_config, group_id, names).values()):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL_S)
