"""The first step of a run: the scenario at the asked length, and the name of its golden recording."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.durations import seconds
from harness.errors import ScenarioError
from harness.scenarios import Scenario, load_scenario

if TYPE_CHECKING:
    from harness.recording.golden.store import GoldenStore

__all__ = ["LENGTHS", "GOLDEN_MAX_TRIGGERS", "SizedScenario", "golden_variant", "size_scenario"]

#: ``--donki-length`` values besides a trigger count (``100``) or a duration (``30s``)
LENGTHS = ("golden", "ci", "full")
#: Golden recordings of the built-ins are short: the CI variant, at most this many triggers
#: (every stream of every built-in still appears; the largest file, ess-pulse, stays ~4 MB).
GOLDEN_MAX_TRIGGERS = 5
#: The longest duration ``--donki-length`` takes (a week)
MAX_LENGTH_S = 7 * 86400.0
DURATION_EXAMPLES = "e.g. 30s, 500ms, 2m or 1m30s"


@dataclass(frozen=True)
class SizedScenario:
    """A scenario at the length it runs, and the golden recording that length compares with."""

    scenario: Scenario
    golden_name: str

    def __repr__(self) -> str:
        return f"SizedScenario({self.scenario.name!r}, {self.scenario.triggers} triggers, golden {self.golden_name!r})"

    @classmethod
    def as_given(cls, scenario: Scenario) -> SizedScenario:
        """``scenario`` at its own length, its golden recording named after it."""
        return cls(scenario, scenario.name)


def golden_variant(scenario: Scenario | str | Path) -> Scenario:
    """The variant of a scenario that golden recordings hold: CI-sized and short."""
    loaded = load_scenario(scenario) if isinstance(scenario, (str, Path)) else scenario
    short = loaded.ci()
    if short.triggers is None or short.triggers > GOLDEN_MAX_TRIGGERS:
        short = short.with_length(triggers=GOLDEN_MAX_TRIGGERS)
    return short


def size_scenario(scenario: Scenario, length: str | int | None = "golden", *,
                  goldens: GoldenStore | None = None) -> SizedScenario:
    """The scenario at ``length``, and the name of its golden recording.

    Parameters
    ----------
    scenario
        The scenario as written.
    length
        ``golden`` (default, also for ``None``): the short variant golden recordings hold
        (its CI variant, at most :data:`GOLDEN_MAX_TRIGGERS` triggers), golden name = the
        scenario's name; ``ci``: its ``[scenario.ci]`` variant; ``full``: as written; an
        integer or ``"<n>"``: that many triggers; ``"<s>s"``: that many seconds.
    goldens
        The store the run compares with (``None``: the run uses no golden recording).

    Returns
    -------
    SizedScenario
        Lengths other than ``golden`` have golden names ``<name>.<length>``, with one
        exception, the rule for trigger-count lengths (``ci``, ``N``, ``Ns``): when
        ``goldens`` holds no ``<name>.<length>`` but does hold ``<name>`` (the project's own
        or a packaged one), the run is the golden variant at that many triggers and
        compares with ``<name>``, trigger for trigger over the triggers both hold (see
        :mod:`harness.recording.golden.compare`). So ``--donki-length=20`` of a built-in
        compares with its packaged golden's 5 triggers and says so, and a project's own
        ``<name>.<length>`` still wins. ``full`` keeps ``<name>.full``: its parameters are
        not the golden variant's.
    """
    text = "golden" if length is None else str(length).strip()
    name = scenario.name
    if text == "golden":
        return SizedScenario(golden_variant(scenario), name)
    if text == "full":
        if scenario.triggers is None:
            raise ScenarioError(f"scenario {name!r} has no length of its own; give --donki-length=N or Ns")
        return SizedScenario(scenario, f"{name}.full")
    sized, suffix = _trigger_length(scenario, text, length)
    if goldens is not None and not goldens.has(f"{name}.{suffix}") and goldens.has(name):
        return SizedScenario(golden_variant(scenario).with_length(triggers=sized.triggers), name)
    return SizedScenario(sized, f"{name}.{suffix}")


def _trigger_length(scenario: Scenario, text: str, length: object) -> tuple[Scenario, str]:
    """The scenario at a ``ci``, ``N`` or ``Ns`` length, and that length's golden name suffix."""
    if text == "ci":
        return scenario.ci(), "ci"
    if text.isdigit() and int(text) > 0:
        return scenario.with_length(triggers=int(text)), f"{int(text)}t"
    duration = None if text.replace(".", "", 1).isdigit() else seconds(text)  # a bare number is a count
    if duration is not None and math.isfinite(duration) and 0 < duration <= MAX_LENGTH_S:
        return scenario.with_length(duration_s=duration), f"{duration:g}s"
    raise ScenarioError(f"length {length!r} is not valid; expected one of {', '.join(LENGTHS)}, a trigger count "
                        f"(e.g. 100) or a duration up to {MAX_LENGTH_S / 86400:g} days ({DURATION_EXAMPLES})")
