"""The one interface every broker provider offers."""

from __future__ import annotations

import abc
from typing import Any

from harness.errors import BrokerLostError
from harness.kafka.readiness import ClusterHealth, probe

__all__ = ["Broker"]


class Broker(abc.ABC):
    """A Kafka cluster the harness can use: started here, in a container, or elsewhere.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    #: ``"local"``, ``"container"`` or ``"external"``
    provider: str = ""

    def __init__(self) -> None:
        self._started = False
        #: set once the cluster stopped answering and could not be brought back
        self.lost: BrokerLostError | None = None

    @property
    @abc.abstractmethod
    def bootstrap_servers(self) -> str:
        """``host:port[,host:port]`` for clients."""

    @property
    def client_config(self) -> dict[str, Any]:
        """Client settings every producer/consumer/admin needs (bootstrap, security)."""
        return {"bootstrap.servers": self.bootstrap_servers}

    @property
    def expected_brokers(self) -> int:
        return 1

    @property
    def version(self) -> str | None:
        """The Kafka version, where known."""
        return None

    @property
    def started(self) -> bool:
        return self._started

    @abc.abstractmethod
    def start(self) -> Broker:
        """Bring the cluster up (or check that it answers) and return ``self``."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Release everything :meth:`start` acquired; safe to call twice."""

    def health(self, timeout_s: float = 2.0) -> ClusterHealth:
        """One metadata round trip against the cluster."""
        config = {k: v for k, v in self.client_config.items() if k != "bootstrap.servers"}
        return probe(self.bootstrap_servers, config, timeout_s, self.expected_brokers)

    def is_ready(self, timeout_s: float = 2.0) -> bool:
        return self.health(timeout_s).ok

    def ensure_serving(self, timeout_s: float = 2.0) -> None:
        """Return at once if a broker answers; else :meth:`recover` or raise the loss.

        A session's broker that died (a test killed it, the machine ran out of memory)
        makes each later test fail within ``timeout_s`` with the same one-line
        :class:`~harness.errors.BrokerLostError`, rather than after every client's timeout.
        """
        if self.lost is not None:
            raise self.lost
        health = self.health(timeout_s)
        if health.brokers == 0:
            self.recover(health.detail)

    def recover(self, reason: str) -> None:
        """Bring a cluster that stopped answering back, or raise; here only the latter."""
        self.lost = BrokerLostError(self.bootstrap_servers, reason)
        raise self.lost

    def logs(self, node: int | None = None, tail: int = 200) -> str:
        """Recent broker log text, where the provider can see it."""
        return ""

    def describe(self) -> str:
        """One line for reports: provider, version, address."""
        version = f" Kafka {self.version}" if self.version else ""
        return f"{self.provider}{version} at {self.bootstrap_servers}"

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
