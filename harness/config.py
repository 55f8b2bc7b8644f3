"""The settings registry and the one resolver used everywhere.

Precedence: factory argument > command-line option > environment variable > ini key
> default (the order pytest-django and most plugins use, so CI can override a project's
ini file through the environment). Candidates are tested with ``is None`` so that falsy
values (0, "", False) set on purpose are honoured.

Each package registers the settings it owns (:mod:`harness.kafka.settings`,
:mod:`harness.recording.golden.settings`); :mod:`harness.runs.settings` gathers them all and
reads them once into a frozen :class:`~harness.runs.settings.DonkiSettings`.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.errors import ConfigError

__all__ = ["enum_member", "Setting", "SETTINGS", "resolve", "first_set", "register_setting"]


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
        (env.get(setting.env), f"environment variable {setting.env}"),
        (ini, f"ini key {setting.ini}"),
        (setting.default, f"default of {setting.option}"),
    )
    for value, source in sources:
        if value is not None:
            return setting.validate(value, source)
    return None


E = TypeVar("E", bound=enum.Enum)


def enum_member(cls: type[E], value: E | str, where: str, what: str) -> E:
    """The member of ``cls`` whose value is ``value`` (a member is returned as it is); else one
    :class:`ConfigError` line naming ``where``, ``what`` was given and the allowed values."""
    if isinstance(value, cls):
        return value
    for member in cls:
        if member.value == value:
            return member
    raise ConfigError(f"{where}: {what} {value!r} is not valid; expected one of: "
                      f"{', '.join(str(m.value) for m in cls)}")
