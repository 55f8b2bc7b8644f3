"""The plugin's command-line options and ini keys, declared without importing the engine.

They mirror the engine's settings (:mod:`harness.runs.settings`; a test keeps the two
tables equal): the engine validates and resolves them, but only once a donki setting is
given or a donki fixture is used (see :mod:`pytest_donki.engine`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

__all__ = ["OptionSpec", "OPTIONS", "add_options", "donki_requested"]


@dataclass(frozen=True)
class OptionSpec:
    """``--donki-<name>``, ini ``donki_<name>``, environment ``DONKI_<NAME>``."""

    name: str
    help: str
    choices: tuple[str, ...] | None = None

    @property
    def dest(self) -> str:
        return "donki_" + self.name

    @property
    def option(self) -> str:
        return "--donki-" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return self.dest.upper()


OPTIONS = (
    OptionSpec("kafka", "Kafka broker provider: auto|local|container|external",
               ("auto", "local", "container", "external")),
    OptionSpec("bootstrap", "Bootstrap address HOST:PORT[,HOST:PORT] of an existing Kafka cluster"),
    OptionSpec("kafka_nodes", "Number of nodes of the local KRaft cluster (1 or 3)"),
    OptionSpec("golden", "Golden recordings of scenario runs: compare (default: compare with them, write them as "
                         "the record mode says) or off (no golden step)", ("compare", "off")),
    OptionSpec("record_mode", "When golden recordings are written: none|once|new|all|rewrite",
               ("none", "once", "new", "all", "rewrite")),
    OptionSpec("recordings", "Directory of golden recordings"),
    OptionSpec("scenario", "Run these scenarios (built-in names or TOML paths, comma-separated) as tests, with "
                           "every check"),
    OptionSpec("length", "Run length of scenario tests: golden (default, the golden recordings' length), ci, "
                         "full, a trigger count (100) or a duration (30s, 500ms, 2m)"),
    OptionSpec("report", "Directory for per-scenario JSON reports and PNG plots"),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("donki", "pytest-donki: Kafka record-replay harness")
    for spec in OPTIONS:
        choices = f" [{'|'.join(spec.choices)}]" if spec.choices else ""
        group.addoption(spec.option, dest=spec.dest, default=None,
                        help=f"{spec.help}{choices} (env: {spec.env}, ini: {spec.dest})")
        parser.addini(spec.dest, help=spec.help, default=None)


def donki_requested(config: pytest.Config) -> bool:
    """Whether any donki option, environment variable or ini key is set for this session."""
    for spec in OPTIONS:
        if config.getoption(spec.dest, default=None) is not None or os.environ.get(spec.env) is not None:
            return True
        if config.getini(spec.dest) not in (None, "", []):
            return True
    return False
