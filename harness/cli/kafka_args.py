"""Command-line options shared by the commands that talk to a Kafka cluster."""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["add_bootstrap", "client_config"]


def add_bootstrap(parser: argparse.ArgumentParser,
                  help: str = "Kafka bootstrap address (default: $DONKI_BOOTSTRAP)") -> None:
    parser.add_argument("--bootstrap", "-b", metavar="HOST:PORT[,HOST:PORT]", default=None, help=help)


def client_config(args: argparse.Namespace) -> dict[str, Any]:
    """Client settings from ``--bootstrap`` (or ``DONKI_BOOTSTRAP``) plus security from the environment."""
    from harness.config import resolve
    from harness.errors import ConfigError
    from harness.kafka.external import ExternalKafka, security_from_env

    bootstrap = resolve("bootstrap", option=args.bootstrap)
    if bootstrap is None:
        raise ConfigError("no Kafka cluster given: pass --bootstrap HOST:PORT or set DONKI_BOOTSTRAP "
                          "(`donki kafka start` runs a local broker and prints its address)")
    return ExternalKafka(bootstrap, security=security_from_env(os.environ)).client_config
