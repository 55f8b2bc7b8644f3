"""The session's settings, read once at start-up into :class:`~harness.runs.settings.DonkiSettings`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

from harness.errors import ConfigError
from harness.runs.settings import DonkiSettings, read_settings

if TYPE_CHECKING:
    from harness.config import Setting

__all__ = ["SETTINGS_KEY", "read", "settings_of", "from_rootdir", "pick"]

SETTINGS_KEY = pytest.StashKey[DonkiSettings]()
T = TypeVar("T")


def read(config: pytest.Config) -> DonkiSettings:
    """Resolve every setting from the command line, environment and ini file; a bad value is a usage error."""

    def option(spec: Setting) -> object:
        return config.getoption(spec.dest, default=None)

    def ini(spec: Setting) -> object:
        return config.getini(spec.ini)

    try:
        return read_settings(option, ini)
    except ConfigError as exc:
        raise pytest.UsageError(f"pytest-donki: {exc}") from None


def settings_of(config: pytest.Config) -> DonkiSettings:
    """The settings read at start-up (read now if the plugin was registered late)."""
    if SETTINGS_KEY not in config.stash:
        config.stash[SETTINGS_KEY] = read(config)
    return config.stash[SETTINGS_KEY]


def from_rootdir(config: pytest.Config, path: str) -> Path:
    """``path`` as given when absolute, else relative to the rootdir."""
    given = Path(path)
    return given if given.is_absolute() else config.rootpath / given


def pick(argument: T | None, setting: T) -> T:
    """A factory argument when given, else the session's setting (``is None``, never ``or``)."""
    return setting if argument is None else argument
