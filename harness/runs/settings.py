"""Every setting of pytest-donki, read once into a frozen :class:`DonkiSettings`.

The packages register what they own (:mod:`harness.kafka.settings`,
:mod:`harness.recording.golden.settings`); the settings of scenario runs are registered here.
The pytest plugin turns each into ``--donki-<x>`` / ini ``donki_<x>`` / ``DONKI_<X>``;
the CLI resolves the ones it takes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from harness.config import SETTINGS, Setting, register_setting, resolve
from harness.kafka import settings as _kafka_settings  # noqa: F401 - registers kafka, bootstrap, kafka_nodes
from harness.recording.golden import settings as _golden  # noqa: F401 - registers golden, record_mode, recordings
from harness.recording.golden.modes import RecordMode

__all__ = ["DonkiSettings", "SETTINGS", "read_settings"]

register_setting(Setting("scenario", "Run these scenarios (built-in names or TOML paths, comma-separated) "
                                     "as tests, with every check"))
register_setting(Setting("length", "Run length of scenario tests: golden (default, the golden recordings' "
                                   "length), ci, full, a trigger count (100) or a duration (30s, 500ms, 2m)", "golden"))
register_setting(Setting("report", "Directory for per-scenario JSON reports and PNG plots"))


@dataclass(frozen=True)
class DonkiSettings:
    """The resolved settings of a session (paths as given: the caller knows their base)."""

    kafka: str
    bootstrap: str | None
    kafka_nodes: int
    scenarios: tuple[str, ...]
    length: str
    golden: str  # "compare" or "off" (harness.recording.golden.settings.GOLDEN_CHOICES)
    record_mode: RecordMode
    recordings: str
    report: str | None


def read_settings(option: Callable[[Setting], object] = lambda _s: None,
                  ini: Callable[[Setting], object] = lambda _s: None,
                  environ: Mapping[str, str] | None = None) -> DonkiSettings:
    """Resolve every setting once; ``option``/``ini`` look a setting up in their source.

    A bad value raises :class:`~harness.errors.ConfigError` naming its source.
    """
    env = os.environ if environ is None else environ

    def get(name: str) -> object:
        spec = SETTINGS[name]
        return resolve(name, option=option(spec), ini=ini(spec), environ=env)

    scenarios = tuple(part.strip() for part in str(get("scenario") or "").split(",") if part.strip())
    report = get("report")
    bootstrap = get("bootstrap")
    return DonkiSettings(
        kafka=str(get("kafka")), bootstrap=None if bootstrap is None else str(bootstrap),
        kafka_nodes=int(str(get("kafka_nodes"))), scenarios=scenarios, length=str(get("length")),
        golden=str(get("golden")), record_mode=RecordMode.parse(str(get("record_mode"))),
        recordings=str(get("recordings")), report=None if report in (None, "") else str(report))
