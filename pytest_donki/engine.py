"""Finding pytest-donki's engine, the package ``harness``, without importing it by accident.

The plugin loads in every pytest run. "harness" is a common name for a project's own test
helpers (``harness.py``, ``tests/harness/``); importing our engine at start-up would hide
theirs, and theirs found first would break ours. So the plugin imports the engine only
when a donki setting is given or a donki fixture is used, and first checks that the
``harness`` Python would import is ours.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

__all__ = ["ENGINE_DIR", "EngineShadowed", "shadowing_module", "require_engine", "engine_loaded"]

#: where our engine is installed: beside this package (a wheel, an editable install, a checkout)
ENGINE_DIR = Path(__file__).resolve().parent.parent / "harness"


def _location(name: str = "harness") -> Path | None:
    module = sys.modules.get(name)
    if module is not None:
        origin = getattr(module, "__file__", None)
        return Path(origin).resolve() if origin else None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin).resolve() if spec is not None and spec.origin else None


def shadowing_module() -> Path | None:
    """The file that ``import harness`` would load instead of our engine, or ``None``."""
    found = _location()
    if found is None or found == ENGINE_DIR / "__init__.py":
        return None
    return found


def engine_loaded() -> bool:
    """Whether our engine is imported (so its errors and ensembles can be looked for)."""
    return "harness" in sys.modules and shadowing_module() is None


class EngineShadowed(Exception):
    """A project module named ``harness`` hides pytest-donki's engine."""


def require_engine() -> None:
    """Raise one line naming the shadowing file and the fix unless ``import harness`` gives our engine."""
    shadow = shadowing_module()
    if shadow is not None:
        raise EngineShadowed(
            f"pytest-donki: {shadow} shadows pytest-donki's engine package 'harness' "
            f"(installed at {ENGINE_DIR}); rename your module (e.g. to test_helpers) to use the donki "
            "fixtures and options, or leave them unused")
