"""Settings and the one resolver used everywhere.

Precedence: factory argument > command-line option > ini key > environment variable
> default. Candidates are tested with ``is None`` so that falsy values (0, "", False)
set on purpose are honoured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from harness.errors import ConfigError

__all__ = ["Setting", "SETTINGS", "resolve", "first_set", "register_setting"]


def first_set(*candidates: Any) -> Any:
    """Return the first candidate that is not ``None`` (or ``None``)."""
    for value in candidates:
        if value is not None:
            return value
    return None


@dataclass(frozen=True)
class Setting:
    """One configurable value: ``--donki-<name>``, ini ``donki_<name>``, env ``DONKI_<NAME>``."""

    name: str
    help: str
    default: Any = None
    choices: tuple[str, ...] | None = None
    convert: Callable[[str], Any] | None = None

    @property
    def option(self) -> str:
        return "--donki-" + self.name.replace("_", "-")

    @property
    def dest(self) -> str:
        return "donki_" + self.name.replace("-", "_")

    @property
    def ini(self) -> str:
        return self.dest

    @property
    def env(self) -> str:
        return self.dest.upper()

    def validate(self, value: Any, source: str) -> Any:
        """Convert and check a raw value, naming ``source`` in the error."""
        if value is None:
            return None
        if isinstance(value, str) and self.convert is not None:
            try:
                value = self.convert(value)
            except ValueError as exc:
                raise ConfigError(f"{source}: {value!r} is not valid for {self.option}: {exc}") from None
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(self.choices)
            raise ConfigError(f"{source}: {value!r} is not a valid value; expected one of: {allowed}")
        return value


SETTINGS: dict[str, Setting] = {}


def register_setting(setting: Setting) -> Setting:
    """Add a setting to the registry the pytest plugin turns into options and ini keys."""
    SETTINGS[setting.name] = setting
    return setting


def resolve(
    name: str,
    *,
    argument: Any = None,
    option: Any = None,
    ini: Any = None,
    environ: Mapping[str, str] | None = None,
) -> Any:
    """Resolve setting ``name`` from its sources in precedence order, validated."""
    setting = SETTINGS[name]
    env = os.environ if environ is None else environ
    ini = None if ini in ("", []) else ini
    sources = (
        (argument, f"argument {setting.name}="),
        (option, f"option {setting.option}"),
        (ini, f"ini key {setting.ini}"),
        (env.get(setting.env), f"environment variable {setting.env}"),
        (setting.default, f"default of {setting.option}"),
    )
    for value, source in sources:
        if value is not None:
            return setting.validate(value, source)
    return None


PROVIDERS = ("auto", "local", "container", "external")

register_setting(Setting("kafka", "Kafka broker provider: " + "|".join(PROVIDERS), "auto", PROVIDERS))
register_setting(Setting("bootstrap", "Bootstrap address HOST:PORT[,HOST:PORT] of an existing Kafka cluster"))
register_setting(Setting("kafka_nodes", "Number of nodes of the local KRaft cluster (1 or 3)", 1, None, int))

# golden recordings (harness.recording): the mode enum is the one source of the choices
from harness.recording.modes import DEFAULT_RECORD_MODE, RecordMode  # noqa: E402 - cheap, no cycle

register_setting(Setting("record_mode", "When golden recordings are written: " + "|".join(RecordMode.choices()),
                         DEFAULT_RECORD_MODE.value, RecordMode.choices()))
register_setting(Setting("recordings", "Directory of golden recordings", "recordings"))

# scenario runs under pytest (pytest_donki) and the donki CLI
register_setting(Setting("scenario", "Run these scenarios (built-in names or TOML paths, comma-separated) "
                                     "as tests, with every check"))
register_setting(Setting("length", "Run length of scenario tests: golden (default, the golden recordings' "
                                   "length), ci, full, a trigger count (100) or seconds (30s)", "golden"))
register_setting(Setting("report", "Directory for per-scenario JSON reports and PNG plots"))
