"""Checks of the numbers, names and paths that the CLI, TOML files and the API take.

Every number must be finite and inside a stated range: NaN compares false with
everything, so ``value > 0`` lets it through, and ``inf`` or ``1e12`` seconds are waits
that never end. Each check raises :class:`~harness.errors.ConfigError` with one line that
names the input, the value and what was expected. :func:`arg` turns a check into an
``argparse`` type, so a bad command-line value is a usage error (exit 2) before anything
starts.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import ConfigError

__all__ = [
    "MAX_COUNT",
    "MAX_DURATION_S",
    "MAX_RATE_HZ",
    "MAX_TRIGGERS",
    "arg",
    "arg_duration",
    "arg_int",
    "arg_new_file",
    "arg_number",
    "arg_port",
    "arg_rate",
    "duration",
    "finite_json",
    "integer",
    "name",
    "new_file",
    "number",
    "port",
    "rate",
]

MAX_DURATION_S = 7 * 24 * 3600.0  # a week: longer is a typo or an attack, not a test
MAX_RATE_HZ = 1e6
MAX_COUNT = 10**9
MAX_TRIGGERS = 10**8  # 14 Hz for three months
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}")

T = TypeVar("T")


def _range(low: float | None, high: float | None, low_open: bool) -> str:
    left = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
    right = "" if high is None else f"<= {high:g}"
    return " and ".join(p for p in (left, right) if p) or "finite"


def number(what: str, value: Any, *, low: float | None = None, high: float | None = None,
           low_open: bool = False) -> float:
    """``value`` as a finite float within [low, high] (``low`` excluded with ``low_open``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{what} {value!r}: expected a number")
    try:
        result = float(value)
    except OverflowError:
        raise ConfigError(f"{what} {value!r}: expected a finite number {_range(low, high, low_open)}") from None
    bad_low = low is not None and (result <= low if low_open else result < low)
    if not math.isfinite(result) or bad_low or (high is not None and result > high):
        raise ConfigError(f"{what} {value!r}: expected a finite number {_range(low, high, low_open)}")
    return result


def integer(what: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int within [low, high]; floats with an integral value are taken (TOML ``1e3``)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{what} {value!r}: expected a whole number {_range(low, high, False)}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{what} {value!r}: expected a whole number {_range(low, high, False)}")
    return value


def duration(what: str, value: Any, *, high: float = MAX_DURATION_S, zero: bool = False) -> float:
    """Seconds: finite, > 0 (or >= 0 with ``zero``) and at most ``high``."""
    return number(what, value, low=0.0, high=high, low_open=not zero)


def rate(what: str, value: Any, *, high: float = MAX_RATE_HZ) -> float:
    """Hertz: finite, > 0, at most ``high``."""
    return number(what, value, low=0.0, high=high, low_open=True)


def port(what: str, value: Any, *, free: bool = False) -> int:
    """A TCP port 1-65535 (or 0, meaning a free one, with ``free``)."""
    return integer(what, value, low=0 if free else 1, high=65535)


def name(what: str, value: str) -> str:
    """A plain file name stem: letters, digits, ``_.+-``, no path separators, no ``..``."""
    if not _NAME.fullmatch(value) or ".." in value:
        raise ConfigError(f"{what} {value!r}: expected a plain name (letters, digits, _ . + -, no '/' or '..')")
    return value


def new_file(what: str, value: str | os.PathLike[str], *, make_parents: bool = False) -> Path:
    """A path a file can be written to: not empty, not a directory, in an existing writable directory
    (with ``make_parents``, a missing directory is fine where its nearest existing ancestor is writable)."""
    text = os.fspath(value)
    if not text.strip():
        raise ConfigError(f"{what}: the path is empty; expected a file name")
    path = Path(text)
    if path.is_dir():
        raise ConfigError(f"{what} {text}: is a directory; expected a file name")
    parent = path.parent if str(path.parent) else Path(".")
    while make_parents and not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{what} {text}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"{what} {text}: not writable here; choose another path")
    if str(path.resolve()).startswith(("/proc/", "/sys/")):
        raise ConfigError(f"{what} {text}: /proc and /sys take no files; choose another path")
    return path


def finite_json(what: str, value: Any) -> None:
    """Every number inside a decoded JSON/TOML value is finite (``json.loads`` accepts NaN and Infinity)."""
    stack = [value]
    while stack:  # iterative: the value may be nested as deep as the decoder allowed
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ConfigError(f"{what}: contains {item!r}; expected finite numbers")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def arg(check: Callable[[str, Any], T], parse: Callable[[str], Any] = float,
        what: str = "value") -> Callable[[str], T]:
    """An ``argparse`` type: parse the text, then ``check(what, value)``; errors become usage errors."""

    def convert(text: str) -> T:
        try:
            value = parse(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"{text!r}: expected a {parse.__name__} value") from None
        try:
            return check(what, value)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(what).lstrip(": ")) from None

    convert.__name__ = getattr(check, "__name__", "value")
    return convert


def arg_number(low: float | None = None, high: float | None = None, low_open: bool = False) -> Callable[[str], float]:
    return arg(lambda what, v: number(what, v, low=low, high=high, low_open=low_open))


def arg_int(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    return arg(lambda what, v: integer(what, v, low=low, high=high), int)


def arg_duration(high: float = MAX_DURATION_S, zero: bool = False) -> Callable[[str], float]:
    return arg(lambda what, v: duration(what, v, high=high, zero=zero))


def arg_rate(high: float = MAX_RATE_HZ) -> Callable[[str], float]:
    return arg(lambda what, v: rate(what, v, high=high))


def arg_port(free: bool = False) -> Callable[[str], int]:
    return arg(lambda what, v: port(what, v, free=free), int)


def arg_new_file() -> Callable[[str], Path]:
    return arg(new_file, str)
