"""Command-line options shared by the commands that talk to a Kafka cluster."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.kafka import Broker

__all__ = ["REACH_TIMEOUT_S", "START_HINT", "add_bootstrap", "client_config", "require_reachable", "cli_broker"]

#: How long a command waits for a named cluster before it gives up (a typo should not cost 15 s)
REACH_TIMEOUT_S = 2.0
START_HINT = ("start one with `donki kafka start --port 9092` and `export DONKI_BOOTSTRAP=127.0.0.1:9092`, "
              "or pass --bootstrap HOST:PORT")


def add_bootstrap(parser: argparse.ArgumentParser,
                  help: str = "Kafka bootstrap address (default: $DONKI_BOOTSTRAP)") -> None:
    parser.add_argument("--bootstrap", "-b", metavar="HOST:PORT[,HOST:PORT]", default=None, help=help)


def require_reachable(bootstrap: str, config: dict[str, Any] | None = None,
                      timeout_s: float = REACH_TIMEOUT_S) -> None:
    """Fail within ``timeout_s`` with a hint that fits the CLI when no broker answers at ``bootstrap``."""
    from harness.errors import BrokerUnreachableError
    from harness.kafka.external import parse_bootstrap
    from harness.kafka.readiness import probe

    address = parse_bootstrap(bootstrap, "--bootstrap")
    security = {k: v for k, v in (config or {}).items() if k != "bootstrap.servers"}
    started = time.monotonic()
    health = probe(address, security, timeout_s=timeout_s)
    if not health.ok:
        source = "--bootstrap" if os.environ.get("DONKI_BOOTSTRAP") != bootstrap else "DONKI_BOOTSTRAP"
        raise BrokerUnreachableError(f"no Kafka broker answered at {address} ({source}) within "
                                     f"{time.monotonic() - started:.1f} s: {health.detail}; {START_HINT}")


def client_config(args: argparse.Namespace, *, check: bool = True) -> dict[str, Any]:
    """Client settings from ``--bootstrap`` (or ``DONKI_BOOTSTRAP``) plus security from the environment;
    with ``check``, a broker must answer there (see :func:`require_reachable`)."""
    from harness.config import resolve
    from harness.errors import ConfigError
    from harness.kafka.external import ExternalKafka, security_from_env

    bootstrap = resolve("bootstrap", option=args.bootstrap)
    if bootstrap is None:
        raise ConfigError(f"no Kafka cluster given: pass --bootstrap HOST:PORT or set DONKI_BOOTSTRAP; {START_HINT}")
    config = ExternalKafka(bootstrap, security=security_from_env(os.environ)).client_config
    if check:
        require_reachable(bootstrap, config)
    return config


def cli_broker(bootstrap_option: str | None, kafka_option: str | None, log: Callable[[str], None]) -> Broker:
    """The broker a command runs against (not started).

    A ``--bootstrap`` on the command line names the cluster: it beats a provider from the
    environment or ini (``DONKI_KAFKA=local`` does not start a broker beside it); only an
    explicit ``--kafka`` on the same command line combines with it. A named cluster must
    answer within seconds (:func:`require_reachable`).
    """
    from harness.config import resolve
    from harness.kafka import make_broker

    bootstrap = resolve("bootstrap", option=bootstrap_option)
    named = bootstrap_option is not None and kafka_option is None
    kind = "external" if named else resolve("kafka", option=kafka_option)
    if bootstrap is not None and kind in ("auto", "external"):
        require_reachable(bootstrap)  # seconds, not the provider's 15 s wait, for a mistyped address
    return make_broker(kind, bootstrap=bootstrap, log=log)
