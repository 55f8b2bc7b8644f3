"""Kafka for the harness: broker providers, topic admin and client settings.

Importing this package is cheap: its names are imported from their modules when first
used (PEP 562), so ``harness.kafka.settings`` (which every command line reads) does not
import the container, image and runtime modules; confluent-kafka and testcontainers are
imported only when a broker is started or a client is made.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.kafka.admin import TopicAdmin, TopicNamespace, TopicSpec
    from harness.kafka.clients import consumer_config, make_consumer, make_producer, producer_config
    from harness.kafka.container import ContainerKafka, docker_available
    from harness.kafka.external import ExternalKafka
    from harness.kafka.factory import make_broker
    from harness.kafka.local import LocalKafka
    from harness.kafka.provider import Broker
    from harness.kafka.readiness import ClusterHealth, wait_ready
    from harness.kafka.runtime import DEFAULT_KAFKA_VERSION, KafkaRuntime, fetch_runtime, locate_runtime

#: Each public name and the module that defines it.
_HOMES = {
    "TopicAdmin": "admin",
    "TopicNamespace": "admin",
    "TopicSpec": "admin",
    "consumer_config": "clients",
    "make_consumer": "clients",
    "make_producer": "clients",
    "producer_config": "clients",
    "ContainerKafka": "container",
    "docker_available": "container",
    "ExternalKafka": "external",
    "make_broker": "factory",
    "LocalKafka": "local",
    "Broker": "provider",
    "ClusterHealth": "readiness",
    "wait_ready": "readiness",
    "DEFAULT_KAFKA_VERSION": "runtime",
    "KafkaRuntime": "runtime",
    "fetch_runtime": "runtime",
    "locate_runtime": "runtime",
}

__all__ = [
    "Broker",
    "ClusterHealth",
    "ContainerKafka",
    "DEFAULT_KAFKA_VERSION",
    "ExternalKafka",
    "KafkaRuntime",
    "LocalKafka",
    "TopicAdmin",
    "TopicNamespace",
    "TopicSpec",
    "consumer_config",
    "docker_available",
    "fetch_runtime",
    "locate_runtime",
    "make_broker",
    "make_consumer",
    "make_producer",
    "producer_config",
    "wait_ready",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once imported, a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
