"""An existing Kafka cluster, given by its bootstrap address."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness.errors import ConfigError
from harness.kafka.provider import Broker
from harness.kafka.readiness import wait_ready

__all__ = ["ExternalKafka", "parse_bootstrap", "security_from_env"]

CONNECT_TIMEOUT_S = 15.0
_ADDRESS_RE = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")
#: client settings passed through to every producer/consumer/admin (SASL/SSL)
SECURITY_KEYS = (
    "security.protocol", "sasl.mechanism", "sasl.mechanisms", "sasl.username", "sasl.password",
    "ssl.ca.location", "ssl.certificate.location", "ssl.key.location", "ssl.key.password",
    "ssl.endpoint.identification.algorithm",
)


def parse_bootstrap(value: str, source: str = "bootstrap address") -> str:
    """Validate ``host:port[,host:port]`` and return it normalised."""
    parts = [p.strip() for p in str(value).split(",") if p.strip()]
    if not parts:
        raise ConfigError(f"{source} is empty; expected HOST:PORT[,HOST:PORT], e.g. 127.0.0.1:9092")
    for part in parts:
        match = _ADDRESS_RE.match(part)
        if not match or not 0 < int(match.group(2)) < 65536:
            raise ConfigError(f"{source}: {part!r} is not HOST:PORT (port 1-65535), e.g. kafka1.example:9092")
    return ",".join(parts)


def security_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """``DONKI_KAFKA_SECURITY_PROTOCOL=SASL_SSL`` etc. become client settings."""
    found = {}
    for key in SECURITY_KEYS:
        env = "DONKI_KAFKA_" + key.upper().replace(".", "_")
        if environ.get(env):
            found[key] = environ[env]
    return found


class ExternalKafka(Broker):
    """A cluster someone else runs; :meth:`start` only checks that it answers."""

    provider = "external"

    def __init__(
        self,
        bootstrap: str,
        *,
        security: Mapping[str, Any] | None = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        expected_brokers: int = 1,
    ) -> None:
        super().__init__()
        self._bootstrap = parse_bootstrap(bootstrap)
        unknown = set(security or {}) - set(SECURITY_KEYS)
        if unknown:
            raise ConfigError(
                f"unknown client security setting(s) {sorted(unknown)}; allowed: {', '.join(SECURITY_KEYS)}"
            )
        self._security = dict(security or {})
        self._connect_timeout_s = connect_timeout_s
        self._expected = expected_brokers

    @property
    def bootstrap_servers(self) -> str:
        return self._bootstrap

    @property
    def client_config(self) -> dict[str, Any]:
        return {"bootstrap.servers": self._bootstrap, **self._security}

    @property
    def expected_brokers(self) -> int:
        return self._expected

    def start(self) -> ExternalKafka:
        wait_ready(self._bootstrap, timeout_s=self._connect_timeout_s, expected_brokers=self._expected,
                   client_config=self._security)
        self._started = True
        return self

    def stop(self) -> None:
        self._started = False  # not ours to stop
