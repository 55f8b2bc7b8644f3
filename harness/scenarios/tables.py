"""Small checks on the tables of a scenario file, each naming the place of a mistake."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from harness.errors import ScenarioError
from harness.kinds.params import REQUIRED, Param

__all__ = ["check_keys", "require_table", "take", "check_topic", "TOPIC_PATTERN"]

TOPIC_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,180}$")


def require_table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where}: expected a table, found {value!r} ({type(value).__name__})")
    return value


def check_keys(table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Refuse keys a table does not know (a typo would otherwise be silently ignored)."""
    allowed = list(allowed)
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                            f"allowed keys: {', '.join(allowed)}")


def take(table: Mapping[str, Any], key: str, kind: type, where: str, default: Any = REQUIRED, **bounds: Any) -> Any:
    """``table[key]`` checked as a :class:`Param` would, or ``default`` when absent."""
    if key not in table:
        if default is REQUIRED:
            raise ScenarioError(f"{where}: missing required key {key!r} ({kind.__name__})")
        return default
    return Param(key, kind, default, **bounds).validate(table[key], f"{where}.{key}")


def check_topic(name: str, where: str) -> str:
    """A local topic name: letters, digits, ``._-`` (the namespace prefix is added at run time)."""
    if not TOPIC_PATTERN.match(name) or name in (".", ".."):
        raise ScenarioError(f"{where}: {name!r} is not a valid topic name; use 1-180 characters of "
                            "A-Z a-z 0-9 . _ - (ESS habit: <instrument>_<purpose>, e.g. loki_detector)")
    return name
