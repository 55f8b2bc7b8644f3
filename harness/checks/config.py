"""Which checks a run gets, and their options: one spelling for the marker, the runner and the CLI.

The spelling is a mapping from check name (:data:`~harness.checks.suite.CHECK_NAMES`) to
``False`` (the check is not run), ``True`` (run with its defaults) or a table of the
check's options::

    checks={"rates": {"tolerance": 0.2}, "golden": False, "views": False}

A check left out runs with its defaults. Only ``rates`` has options (:data:`RATE_OPTIONS`);
the others take ``True`` or ``False``. :meth:`ChecksConfig.parse` refuses anything else
with a :class:`~harness.errors.ConfigError` that names the place, the value and what is
allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from harness.errors import ConfigError

__all__ = ["CHECK_NAMES", "CONFIDENCE", "STATISTICS", "RATE_OPTIONS", "RateOptions", "ChecksConfig"]

#: Every check of a run, in report order (re-exported by ``harness.checks.suite``).
CHECK_NAMES = ("run", "acks", "levels", "ordering", "integrity", "views", "rates", "golden")

#: Default two-sided confidence of the rates check's jitter bound (0: the tolerance alone decides).
#: 99.9 %, not 99 %: a false rate failure is a flaky test, and at 99 % 3 of 30 default-length
#: ess-pulse runs on a 2-core machine at load 17-20 failed, while 20 triggers at 20 % slow
#: still fail at 99.9 % (see benchmarks/rate_verdicts.py and docs/checks.md).
CONFIDENCE = 0.999
#: How the rates check measures the achieved rate (see harness.checks.rates.check_rates)
STATISTICS = ("slope", "median", "mean")


@dataclass(frozen=True)
class RateOptions:
    """Options of the ``rates`` check.

    ``tolerance`` (0 < x <= 1) replaces every player's ``expect.rate_tolerance`` when set;
    ``statistic`` is how the achieved rate is measured (``slope``, ``median``, ``mean``);
    a stream with fewer than ``min_messages`` messages is unrated (at least 3: two points
    show no jitter); ``confidence`` (0 <= x < 1) is the two-sided confidence of the jitter
    bound, 0 leaving the tolerance alone; ``jitter_p99_ms``, if set, also fails a stream
    whose p99 of |interval - nominal period| exceeds it.
    """

    tolerance: float | None = None
    statistic: str = "slope"
    min_messages: int = 3
    confidence: float = CONFIDENCE
    jitter_p99_ms: float | None = None


#: rates option -> (what is expected, test of a value); the words appear in error messages
RATE_OPTIONS: dict[str, tuple[str, Any]] = {
    "tolerance": ("a number in (0, 1]", lambda v: _number(v) and 0 < v <= 1),
    "statistic": (f"one of {', '.join(STATISTICS)}", lambda v: isinstance(v, str) and v in STATISTICS),
    "min_messages": ("an integer >= 3", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 3),
    "confidence": ("a number in [0, 1)", lambda v: _number(v) and 0 <= v < 1),
    "jitter_p99_ms": ("a number above 0", lambda v: _number(v) and v > 0),
}
_OPTIONS: dict[str, dict[str, tuple[str, Any]]] = {"rates": RATE_OPTIONS}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class ChecksConfig:
    """The checks of a run: which are off, and the options of those that have some.

    Build it with :meth:`parse`; the default (``ChecksConfig()``) runs every check with its
    defaults.
    """

    disabled: frozenset[str] = frozenset()
    rates: RateOptions = field(default_factory=RateOptions)

    @classmethod
    def parse(cls, value: Mapping[str, Any] | ChecksConfig | None, where: str = "checks") -> ChecksConfig:
        """The config that ``value`` spells; ``None`` is the default, a ``ChecksConfig`` itself.

        Parameters
        ----------
        value
            ``{check name: False | True | {option: value}}``, see the module docstring.
        where
            Where ``value`` came from, for the error (``"@pytest.mark.donki(checks=...)"``).

        Raises
        ------
        ConfigError
            An unknown check or option, a wrong type, a non-finite or out-of-range number.
        """
        if value is None:
            return cls()
        if isinstance(value, ChecksConfig):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: {value!r} is not a table of checks; expected e.g. "
                              '{"rates": {"tolerance": 0.2}, "golden": False}')
        disabled: set[str] = set()
        options: dict[str, dict[str, Any]] = {}
        for name, setting in value.items():
            if name not in CHECK_NAMES:
                raise ConfigError(f"{where}: unknown check {name!r}; expected one of: {', '.join(CHECK_NAMES)}")
            if setting is False:
                disabled.add(name)
            elif setting is not True:
                options[name] = _options(name, setting, where)
        return cls(frozenset(disabled), RateOptions(**options.get("rates", {})))

    @classmethod
    def only(cls, *names: str) -> ChecksConfig:
        """Just the checks ``names`` (e.g. ``only("golden")`` to compare with a golden recording alone)."""
        unknown = sorted(set(names) - set(CHECK_NAMES))
        if unknown:
            raise ConfigError(f"checks {unknown}: unknown; expected some of: {', '.join(CHECK_NAMES)}")
        return cls(frozenset(CHECK_NAMES) - frozenset(names))

    def enabled(self, name: str) -> bool:
        """Whether check ``name`` runs."""
        return name not in self.disabled

    def to_dict(self) -> dict[str, Any]:
        """The spelling :meth:`parse` reads back: disabled checks and the rates options that differ."""
        out: dict[str, Any] = {name: False for name in CHECK_NAMES if name in self.disabled}
        changed = {f.name: getattr(self.rates, f.name) for f in fields(RateOptions)
                   if getattr(self.rates, f.name) != f.default}
        if changed and "rates" not in self.disabled:
            out["rates"] = changed
        return out


def _options(check: str, table: Any, where: str) -> dict[str, Any]:
    known = _OPTIONS.get(check, {})
    if not isinstance(table, Mapping):
        what = "True, False or a table of options" if known else "True or False (it has no options)"
        raise ConfigError(f"{where}: {check}={table!r}: expected {what}")
    checked = {}
    for option, given in table.items():
        if option not in known:
            allowed = ", ".join(known) or "(none)"
            raise ConfigError(f"{where}: unknown option {check}.{option}; options of {check}: {allowed}")
        expected, accepts = known[option]
        if not accepts(given):
            raise ConfigError(f"{where}: {check}.{option}={given!r}: expected {expected}")
        checked[option] = float(given) if isinstance(given, int) and option != "min_messages" else given
    return checked
