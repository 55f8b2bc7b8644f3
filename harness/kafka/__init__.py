"""Kafka for the harness: broker providers, topic admin and client settings.

Importing this package is cheap: confluent-kafka and testcontainers are imported only
when a broker is started or a client is made.
"""

from harness.kafka.admin import TopicAdmin, TopicNamespace, TopicSpec
from harness.kafka.clients import consumer_config, make_consumer, make_producer, producer_config
from harness.kafka.container import ContainerKafka, docker_available
from harness.kafka.external import ExternalKafka
from harness.kafka.factory import make_broker
from harness.kafka.local import LocalKafka
from harness.kafka.provider import Broker
from harness.kafka.readiness import ClusterHealth, wait_ready
from harness.kafka.runtime import DEFAULT_KAFKA_VERSION, KafkaRuntime, fetch_runtime, locate_runtime

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
