"""The settings of the Kafka package: which broker provider, where an existing cluster is, how many nodes."""

from __future__ import annotations

from harness.config import Setting, register_setting

__all__ = ["KAFKA", "BOOTSTRAP", "KAFKA_NODES", "PROVIDERS"]

#: The broker providers (defined here, not in the factory: reading the settings must not
#: import every provider's module)
PROVIDERS = ("auto", "local", "container", "external")

KAFKA = register_setting(Setting("kafka", "Kafka broker provider: " + "|".join(PROVIDERS), "auto", PROVIDERS))
BOOTSTRAP = register_setting(Setting("bootstrap", "Bootstrap address HOST:PORT[,HOST:PORT] of an existing Kafka "
                                                  "cluster"))
KAFKA_NODES = register_setting(Setting("kafka_nodes", "Number of nodes of the local KRaft cluster (1 or 3)", 1, None,
                                       int))
