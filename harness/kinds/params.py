"""Typed, bounded parameters of a stream kind, validated with errors that name their place.

A :class:`Param` says what one key of a ``[players.params]`` table may hold. Validation
messages name the place (``file: players[2].params.shape``), what was found, what is
allowed and, where it helps, the fix, because scenario files are written by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import ScenarioError

__all__ = ["REQUIRED", "Param", "resolve_params", "type_name"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: Marks a parameter without a default.
REQUIRED: Any = _Required()

_PLURALS = {bool: "booleans", int: "integers", float: "numbers", str: "strings"}
_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}


def type_name(kind: type) -> str:
    """``int`` -> ``"an integer"``: the words used in error messages."""
    return _TYPE_NAMES.get(kind, kind.__name__)


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


@dataclass(frozen=True)
class Param:
    """One parameter: its type, default, bounds and allowed values.

    ``kind`` is ``bool``, ``int``, ``float``, ``str`` or ``list``; a ``list`` holds
    ``item`` values and has ``length`` (exact) or ``min_length``/``max_length``.
    ``minimum``/``maximum`` bound numbers and the items of numeric lists (inclusive);
    ``positive`` asks for a number above zero.
    """

    name: str
    kind: type
    default: Any = REQUIRED
    help: str = ""
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    item: type | None = None
    length: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    positive: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> str:
        """One line for docs and ``donki scenarios --kinds``."""
        parts = [type_name(self.kind) if self.item is None else f"array of {_PLURALS.get(self.item, 'values')}"]
        if self.choices is not None:
            parts.append("one of " + ", ".join(map(repr, self.choices)))
        if self.positive:
            parts.append("above 0")
        if self.minimum is not None or self.maximum is not None:
            parts.append(f"in [{self.minimum if self.minimum is not None else '-inf'}, "
                         f"{self.maximum if self.maximum is not None else 'inf'}]")
        if self.length is not None:
            parts.append(f"length {self.length}")
        default = "required" if self.required else f"default {self.default!r}"
        return f"{self.name}: {', '.join(parts)}; {default}. {self.help}".strip()

    def validate(self, value: Any, where: str) -> Any:
        """The checked (and for numbers, converted) value, or a :class:`ScenarioError`."""
        value = self._check_type(value, self.kind, where)
        if self.kind is list:
            return self._check_list(value, where)
        self._check_value(value, where)
        return value

    def _check_type(self, value: Any, kind: type, where: str) -> Any:
        # TOML distinguishes 1 from 1.0; accept an integer where a number is asked for,
        # but never a boolean for a number (True is an int in Python).
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if kind in (int, float) and isinstance(value, bool):
            raise ScenarioError(f"{where}: expected {type_name(kind)}, found {_describe(value)}")
        if not isinstance(value, kind):
            raise ScenarioError(f"{where}: expected {type_name(kind)}, found {_describe(value)}")
        return value

    def _check_value(self, value: Any, where: str) -> None:
        if isinstance(value, float) and not math.isfinite(value):  # TOML has inf and nan
            raise ScenarioError(f"{where}: {value!r} is not allowed; expected a finite number")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(map(repr, self.choices))
            raise ScenarioError(f"{where}: {value!r} is not allowed; expected one of: {allowed}")
        if self.positive and not value > 0:
            raise ScenarioError(f"{where}: {value!r} is not allowed; expected a number above 0")
        if self.minimum is not None and value < self.minimum:
            raise ScenarioError(f"{where}: {value!r} is below the minimum {self.minimum!r}")
        if self.maximum is not None and value > self.maximum:
            raise ScenarioError(f"{where}: {value!r} is above the maximum {self.maximum!r}")

    def _check_list(self, value: list[Any], where: str) -> list[Any]:
        n = len(value)
        if self.length is not None and n != self.length:
            raise ScenarioError(f"{where}: expected an array of {self.length} items, found {n}: {value!r}")
        if self.min_length is not None and n < self.min_length:
            raise ScenarioError(f"{where}: expected at least {self.min_length} items, found {n}: {value!r}")
        if self.max_length is not None and n > self.max_length:
            raise ScenarioError(f"{where}: expected at most {self.max_length} items, found {n}: {value!r}")
        if self.item is None:
            return list(value)
        checked = []
        for index, entry in enumerate(value):
            entry = self._check_type(entry, self.item, f"{where}[{index}]")
            self._check_value(entry, f"{where}[{index}]")
            checked.append(entry)
        return checked


def resolve_params(params: Sequence[Param], given: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Defaults filled in, every value checked, unknown and missing keys refused.

    ``where`` names the table (``"scenario.toml: players[0].params"``).
    """
    known = {p.name: p for p in params}
    unknown = sorted(set(given) - set(known))
    if unknown:
        allowed = ", ".join(sorted(known)) or "(none)"
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed keys: {allowed}")
    resolved: dict[str, Any] = {}
    for param in params:
        if param.name in given:
            resolved[param.name] = param.validate(given[param.name], f"{where}.{param.name}")
        elif param.required:
            raise ScenarioError(f"{where}: missing required key {param.name!r} ({param.describe()})")
        else:
            resolved[param.name] = list(param.default) if isinstance(param.default, (list, tuple)) else param.default
    return resolved
