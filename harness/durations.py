"""One duration syntax for scenario files, ``donki`` options and ``--donki-length``.

``3``, ``2.5``, ``"3s"``, ``"500ms"``, ``"2m"``, ``"1h"``, ``"1m30s"``: a bare number is
seconds. Scenario TOML (``duration = "3s"``) and the command line (``--duration 3s``) read
durations with :func:`parse_duration`, so what one accepts the other does too.
"""

from __future__ import annotations

import math
import re

from harness.errors import ConfigError

__all__ = ["EXAMPLES", "UNITS", "duration_arg", "parse_duration", "seconds"]

UNITS = {"ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|min|s|m|h)")
EXAMPLES = "e.g. 3, 2.5, 3s, 500ms, 2m or 1m30s"


def parse_duration(value: object, where: str = "duration") -> float:
    """``value`` in seconds; a :class:`~harness.errors.ConfigError` naming ``where`` unless it is a
    positive, finite duration."""
    result = seconds(value)
    if result is None or not math.isfinite(result) or result <= 0:
        raise ConfigError(f"{where} {value!r}: expected a positive duration ({EXAMPLES})")
    return result


def seconds(value: object) -> float | None:
    """``value`` in seconds if it is a number or duration text, else ``None`` (no range check)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    text = "".join(value.split()).lower()
    try:
        return float(text)
    except ValueError:
        pass
    parts = list(_PART.finditer(text))
    if not parts or "".join(p.group(0) for p in parts) != text:
        return None
    return sum(float(p.group(1)) * UNITS[p.group(2)] for p in parts)


def duration_arg(text: str) -> float:
    """An ``argparse`` type: the duration in seconds, or a usage error (exit 2) saying what is expected."""
    import argparse

    try:
        return parse_duration(text, "duration")
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("duration ")) from None
