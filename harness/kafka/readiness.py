"""Polling a Kafka cluster until it serves, always against a deadline."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import BrokerUnreachableError

__all__ = ["ClusterHealth", "probe", "wait_ready", "quiet_logger"]

POLL_INTERVAL_S = 0.1
PROBE_TIMEOUT_S = 1.0

_RDKAFKA_LOG = logging.getLogger("harness.kafka.rdkafka")
_RDKAFKA_LOG.addHandler(logging.NullHandler())  # shown by pytest log capture, not on a bare stderr


def quiet_logger() -> logging.Logger:
    """librdkafka's connection-refused chatter goes to a logger, not to stderr."""
    return _RDKAFKA_LOG


@dataclass(frozen=True)
class ClusterHealth:
    """What one metadata request saw."""

    ok: bool
    brokers: int
    controller_id: int | None
    detail: str


def _any_port_open(bootstrap: str, timeout_s: float) -> bool:
    """Cheap TCP check first: a metadata request to a closed port waits its whole timeout."""
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout_s).close()
            return True
        except (OSError, ValueError):
            continue
    return False


def probe(bootstrap: str, client_config: Mapping[str, str] | None = None, timeout_s: float = PROBE_TIMEOUT_S,
          expected_brokers: int = 1) -> ClusterHealth:
    """One metadata round trip; never raises for an unreachable cluster."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    if not _any_port_open(bootstrap, timeout_s):
        return ClusterHealth(False, 0, None, f"nothing listens at {bootstrap}")
    # Any-valued: the logger is an object, which AdminClient's annotation of librdkafka settings leaves out
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, "logger": _RDKAFKA_LOG, **(client_config or {})}
    admin = AdminClient(config)
    try:
        metadata = admin.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        return ClusterHealth(False, 0, None, f"no metadata from {bootstrap}: {exc.args[0]}")
    brokers = len(metadata.brokers)
    controller = metadata.controller_id if metadata.controller_id >= 0 else None
    ok = brokers >= expected_brokers
    detail = f"{brokers} of {expected_brokers} broker(s) registered, controller {controller}"
    return ClusterHealth(ok, brokers, controller, detail)


def wait_ready(
    bootstrap: str,
    *,
    timeout_s: float,
    expected_brokers: int = 1,
    client_config: Mapping[str, str] | None = None,
    still_starting: Callable[[], None] = lambda: None,
) -> ClusterHealth:
    """Poll until ``expected_brokers`` serve metadata, or raise at the deadline.

    ``still_starting`` is called between polls and raises when the thing being waited
    for has died (a broker process that exited), so a crash is reported at once.
    """
    deadline = time.monotonic() + timeout_s
    health = ClusterHealth(False, 0, None, "not probed")
    while True:
        still_starting()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BrokerUnreachableError(
                f"Kafka at {bootstrap} was not ready within {timeout_s:.0f} s ({health.detail}). "
                "Check the address (--donki-bootstrap / DONKI_BOOTSTRAP), that the cluster is up, "
                "and any client security settings."
            )
        health = probe(bootstrap, client_config, min(PROBE_TIMEOUT_S, max(remaining, 0.05)), expected_brokers)
        if health.ok:
            return health
        time.sleep(min(POLL_INTERVAL_S, max(deadline - time.monotonic(), 0)))
