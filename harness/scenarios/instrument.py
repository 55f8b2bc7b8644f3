"""A scenario's neutron load as one number: the events per pulse of all its detector banks.

A detector bank is an enabled player of the ``ess-events`` kind (``ess-pulse`` has one,
``ess-instrument`` four). :func:`with_events_per_pulse` splits a total over them evenly
(the first banks take the remainder), so a benchmark or a test can scale a whole
instrument without naming its banks.
"""

from __future__ import annotations

import math
from dataclasses import replace

from harness.errors import ScenarioError
from harness.kinds import get_stream_kind
from harness.scenarios.model import Scenario
from harness.scenarios.players import PlayerSpec

__all__ = ["EVENTS_KIND", "detector_banks", "events_per_pulse", "with_events_per_pulse"]

#: the stream kind of a detector bank
EVENTS_KIND = "ess-events"


def detector_banks(scenario: Scenario) -> tuple[PlayerSpec, ...]:
    """The enabled ``ess-events`` players of ``scenario``, in file order."""
    return tuple(p for p in scenario.players if p.stream == EVENTS_KIND and p.enabled)


def events_per_pulse(scenario: Scenario) -> int:
    """The events per pulse of all detector banks together."""
    return sum(int(p.params["events_per_pulse"]) for p in detector_banks(scenario))


def with_events_per_pulse(scenario: Scenario, total: int | float) -> Scenario:
    """``scenario`` with ``total`` events per pulse split evenly over its detector banks.

    Raises :class:`~harness.errors.ScenarioError` when the scenario has no bank, when
    ``total`` is not a whole non-negative number, or when a bank's share is outside the
    ``ess-events`` kind's range (each share is validated by the kind, as in a file).
    """
    banks = detector_banks(scenario)
    if not banks:
        raise ScenarioError(f"{scenario.source}: no enabled {EVENTS_KIND!r} player to split the events over; "
                            f"use a scenario with detector banks such as 'ess-instrument'")
    if isinstance(total, bool) or not isinstance(total, (int, float)) or not math.isfinite(total) \
            or total < 0 or total != int(total):
        raise ScenarioError(f"{scenario.source}: events per pulse {total!r}: expected a whole number >= 0")
    share, extra = divmod(int(total), len(banks))
    kind = get_stream_kind(EVENTS_KIND)
    shares = {bank.name: share + (1 if i < extra else 0) for i, bank in enumerate(banks)}
    players = tuple(
        replace(p, params=kind.resolve({**p.params, "events_per_pulse": shares[p.name]},
                                       f"{scenario.source}: players.{p.name}.params"))
        if p.name in shares else p
        for p in scenario.players)
    return replace(scenario, players=players)
