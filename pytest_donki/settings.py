"""Reading harness settings from a pytest config: option > ini key > environment > default."""

from __future__ import annotations

from typing import Any

import pytest

from harness.config import SETTINGS, resolve

__all__ = ["setting"]


def setting(config: pytest.Config, name: str, argument: Any = None) -> Any:
    """Resolve setting ``name`` with a factory ``argument`` taking precedence."""
    spec = SETTINGS[name]
    return resolve(
        name,
        argument=argument,
        option=config.getoption(spec.dest, default=None),
        ini=config.getini(spec.ini),
    )
