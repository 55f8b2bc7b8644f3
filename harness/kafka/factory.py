"""Choosing a broker provider: ``external``, ``container``, ``local`` or ``auto``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from harness.errors import BrokerError, ConfigError, KafkaRuntimeError
from harness.kafka.container import ContainerKafka, docker_available
from harness.kafka.external import ExternalKafka, security_from_env
from harness.kafka.local import LocalKafka
from harness.kafka.provider import Broker
from harness.kafka.settings import PROVIDERS

__all__ = ["PROVIDERS", "make_broker", "chosen_provider"]


def chosen_provider(kind: str, bootstrap: str | None) -> str:
    """The provider ``kind`` stands for here: ``auto`` picks external when ``bootstrap`` is
    set, else container when a Docker daemon answers, else local."""
    if kind != "auto":
        return kind
    if bootstrap:
        return "external"
    return "container" if docker_available() else "local"


def make_broker(
    kind: str = "auto",
    *,
    bootstrap: str | None = None,
    nodes: int = 1,
    security: Mapping[str, Any] | None = None,
    log: Callable[[str], None] = lambda _msg: None,
    **local_options: Any,
) -> Broker:
    """Build (not start) the broker for provider ``kind``.

    ``auto`` picks external when ``bootstrap`` is set, else container when a Docker
    daemon answers, else local; if none can work it says what to install or set.
    """
    if kind not in PROVIDERS:
        raise ConfigError(f"unknown Kafka provider {kind!r}; expected one of: {', '.join(PROVIDERS)}")
    security = dict(security) if security is not None else security_from_env(os.environ)
    chosen = chosen_provider(kind, bootstrap)
    if chosen == "external":
        if not bootstrap:
            raise ConfigError(
                "--donki-kafka=external needs a bootstrap address: set --donki-bootstrap=HOST:PORT, "
                "the ini key donki_bootstrap or DONKI_BOOTSTRAP"
            )
        return ExternalKafka(bootstrap, security=security)
    if kind == "container":
        return _container(local_options)
    if kind == "local":
        return LocalKafka(nodes, log=log, **local_options)
    if chosen == "container":
        log("auto: a Docker daemon answers, using the container provider")
        return _container(local_options)
    try:
        from harness.kafka.runtime import find_java, locate_runtime

        find_java()
        locate_runtime(kafka_home=local_options.get("kafka_home"), version=local_options.get("version"), log=log)
    except KafkaRuntimeError as exc:
        raise BrokerError(
            "auto: no Kafka broker can be had: no bootstrap address is set (--donki-bootstrap), no Docker daemon "
            f"answers, and the local provider cannot run: {exc}"
        ) from None
    log("auto: no bootstrap address and no Docker daemon, using the local KRaft provider")
    return LocalKafka(nodes, log=log, **local_options)


def _container(options: Mapping[str, Any]) -> ContainerKafka:
    """The container provider, with the broker options it shares with the local one."""
    return ContainerKafka(overrides=options.get("overrides"), heap=options.get("heap"))
