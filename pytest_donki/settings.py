"""The session's settings, read once into :class:`~harness.runs.settings.DonkiSettings`.

Read at start-up when a donki setting is given (a bad value then stops pytest with a
usage error), else on the first use of a donki fixture; either way the engine is checked
first (:mod:`pytest_donki.engine`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

from pytest_donki.engine import require_engine
from pytest_donki.options import OPTIONS

if TYPE_CHECKING:
    from harness.config import Setting
    from harness.runs.settings import DonkiSettings

__all__ = ["SETTINGS_KEY", "read", "settings_of", "from_rootdir", "pick"]

SETTINGS_KEY = pytest.StashKey["DonkiSettings"]()
T = TypeVar("T")


def read(config: pytest.Config) -> DonkiSettings:
    """Resolve every setting from the command line, environment and ini file; a bad value is a usage error."""
    require_engine()
    from harness.errors import ConfigError
    from harness.runs.settings import read_settings

    dests = {spec.name: spec.dest for spec in OPTIONS}

    def option(spec: Setting) -> object:
        return config.getoption(dests.get(spec.name, spec.dest), default=None)

    def ini(spec: Setting) -> object:
        return config.getini(dests.get(spec.name, spec.ini))

    try:
        return read_settings(option, ini)
    except ConfigError as exc:
        raise pytest.UsageError(f"pytest-donki: {exc}") from None


def settings_of(config: pytest.Config) -> DonkiSettings:
    """The session's settings (read now on first use)."""
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
