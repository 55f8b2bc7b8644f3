"""Broker settings of the local KRaft cluster, following ESS habits.

Pure functions: they turn a cluster shape (nodes, ports) into ``server.properties``
text, so they are tested without starting anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["NodeAddress", "ESS_BROKER_SETTINGS", "cluster_settings", "node_properties", "render_properties"]

MAX_MESSAGE_BYTES = 300 * 1024 * 1024  # ESS streams up to 300 MB messages (area detector frames)

#: Settings every local broker gets: explicit topics, big messages, data kept forever.
ESS_BROKER_SETTINGS: dict[str, str] = {
    "auto.create.topics.enable": "false",
    "message.max.bytes": str(MAX_MESSAGE_BYTES),
    "replica.fetch.max.bytes": str(MAX_MESSAGE_BYTES),
    "replica.fetch.response.max.bytes": str(MAX_MESSAGE_BYTES),
    "socket.request.max.bytes": str(MAX_MESSAGE_BYTES + 16 * 1024 * 1024),
    "log.retention.ms": "-1",
    "log.retention.bytes": "-1",
    # golden recordings replay old timestamps; replays shifted to "live" may run ahead a little
    "log.message.timestamp.before.max.ms": str(2**63 - 1),
    "log.message.timestamp.after.max.ms": str(2**63 - 1),
    "group.initial.rebalance.delay.ms": "0",
    "num.partitions": "1",
    "delete.topic.enable": "true",
    "num.network.threads": "3",
    "num.io.threads": "4",
    "socket.send.buffer.bytes": "1048576",
    "socket.receive.buffer.bytes": "1048576",
}


@dataclass(frozen=True)
class NodeAddress:
    """One combined broker/controller node on loopback."""

    node_id: int
    broker_port: int
    controller_port: int
    host: str = "127.0.0.1"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.broker_port}"


def cluster_settings(nodes: int) -> dict[str, str]:
    """Replication settings: 1 node is plain; 3 nodes replicate 3 ways with min ISR 2."""
    replicas = "1" if nodes == 1 else "3"
    min_isr = "1" if nodes == 1 else "2"
    return {
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        "offsets.topic.num.partitions": "4",
    }


def node_properties(
    node: NodeAddress,
    cluster: list[NodeAddress],
    log_dir: str,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """All settings of one node; ``overrides`` win over the defaults."""
    voters = ",".join(f"{n.node_id}@{n.host}:{n.controller_port}" for n in cluster)
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{node.host}:{node.broker_port},CONTROLLER://{node.host}:{node.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{node.host}:{node.broker_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": log_dir,
        **ESS_BROKER_SETTINGS,
        **cluster_settings(len(cluster)),
    }
    props.update(overrides or {})
    return props


def render_properties(props: Mapping[str, str]) -> str:
    """Java properties text (values here never need escaping beyond backslashes)."""
    return "".join(f"{key}={str(value).replace(chr(92), chr(92) * 2)}\n" for key, value in props.items())
