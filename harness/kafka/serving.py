"""Whether one node of a cluster serves again: registered, and in sync on every partition it holds.

An open port is not enough after a restart: the node must catch up with the leaders
before ``acks=all`` producers count it, and until then losing another node loses the
quorum of ``min.insync.replicas``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from harness.errors import BrokerStartError
from harness.kafka.readiness import POLL_INTERVAL_S, PROBE_TIMEOUT_S, quiet_logger

if TYPE_CHECKING:
    from confluent_kafka.admin._metadata import ClusterMetadata

__all__ = ["wait_serving", "node_lag"]


def node_lag(metadata: ClusterMetadata, node_id: int) -> str:
    """Why ``node_id`` does not serve yet, ``""`` when it does."""
    if node_id not in metadata.brokers:
        return f"node {node_id} is not registered (brokers {sorted(metadata.brokers)})"
    behind = [f"{name}/{number}" for name, topic in metadata.topics.items()
              for number, partition in topic.partitions.items()
              if node_id in partition.replicas and node_id not in partition.isrs]
    if behind:
        return f"node {node_id} is not yet in the in-sync replicas of {len(behind)} partition(s), e.g. {behind[:3]}"
    return ""


def wait_serving(bootstrap: str, node_id: int, timeout_s: float, *, client_config: Mapping[str, Any] | None = None,
                 still_starting: Callable[[], None] = lambda: None) -> None:
    """Poll the cluster at ``bootstrap`` until ``node_id`` serves; :class:`BrokerStartError` at the deadline."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    config: dict[str, Any] = {"bootstrap.servers": bootstrap, "logger": quiet_logger(), **(client_config or {})}
    admin = AdminClient(config)
    deadline = time.monotonic() + timeout_s
    why = "not asked yet"
    while True:
        still_starting()
        try:
            why = node_lag(admin.list_topics(timeout=PROBE_TIMEOUT_S), node_id)
        except KafkaException as exc:
            why = f"no metadata from {bootstrap}: {exc.args[0] if exc.args else exc}"
        if not why:
            return
        if time.monotonic() >= deadline:
            raise BrokerStartError(f"Kafka node {node_id} did not serve again within {timeout_s:.0f} s: {why}")
        time.sleep(POLL_INTERVAL_S)
