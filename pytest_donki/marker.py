"""The ``@pytest.mark.donki(...)`` marker: which scenario a test runs, and how."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness.errors import ConfigError

__all__ = ["MARKER", "MARKER_KEYS", "MARKER_HELP", "marker_options", "runner_options", "no_scenario"]

MARKER = "donki"
MARKER_KEYS = ("scenario", "record_mode", "length", "golden", "mode", "source", "checks")
MARKER_HELP = ("donki(scenario=None, record_mode=None, length=None, golden=True|False|'name', mode='process', "
               "source='live'|'golden', checks={'rates': {'tolerance': 0.2}, 'golden': False}): the donki scenario "
               "this test runs with the donki_run fixture, and how")


def marker_options(node: pytest.Item) -> dict[str, Any]:
    """The ``@pytest.mark.donki(...)`` keywords of a test (closest marker wins), validated."""
    from harness.errors import ConfigError

    marker = node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker else {}
    if marker and marker.args:
        options.setdefault("scenario", marker.args[0])
    unknown = sorted(set(options) - set(MARKER_KEYS))
    if unknown:
        raise ConfigError(f"{node.nodeid}: @pytest.mark.donki got unknown keyword(s) {unknown}; "
                          f"allowed: {', '.join(MARKER_KEYS)}")
    return options


def runner_options(node: pytest.Item, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The marker's keywords with ``donki_runner``'s keyword arguments on top (``None`` leaves one out)."""
    from harness.errors import ConfigError

    unknown = sorted(set(overrides) - set(MARKER_KEYS))
    if unknown:
        raise ConfigError(f"donki_runner got unknown keyword(s) {unknown}; allowed: {', '.join(MARKER_KEYS)}")
    return {**marker_options(node), **{k: v for k, v in overrides.items() if v is not None}}


def no_scenario(nodeid: str) -> ConfigError:
    """The error of a test that uses a donki scenario but names none."""
    from harness.errors import ConfigError

    return ConfigError(f"{nodeid} uses a donki scenario but names none: mark it with "
                       "@pytest.mark.donki(scenario='e-mixed') (a built-in name or a TOML path)")
