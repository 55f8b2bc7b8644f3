"""Hypothesis strategies for stream parameters, players and whole scenarios.

For other projects' tests as much as ours::

    from hypothesis import given
    from pytest_donki.strategies import scenarios

    @given(scenarios(max_players=3, max_triggers=10))
    def test_my_consumer_survives(scenario): ...

Parameters are drawn from each stream kind's own parameter specs (so a kind added by a
plugin is covered too, unless it has required parameters such as a file path), with
sizes capped so that one example generates and publishes in well under a second.
Every scenario is built through :meth:`Scenario.from_dict`, the path files take.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st

from harness.errors import ScenarioError
from harness.kinds import StreamKind, get_stream_kind, stream_kinds
from harness.kinds.params import Param
from harness.orchestra.ack import AckAfter
from harness.scenarios import ACK_POLICIES, CLOCKS, PlayerSpec, Scenario

__all__ = [
    "SIZE_CAPS",
    "RATES_HZ",
    "generatable_kinds",
    "param_values",
    "stream_params",
    "player_specs",
    "scenarios",
    "topic_names",
]

#: upper bounds that keep one example small (numbers, or list items for shapes)
SIZE_CAPS: dict[str, int] = {
    "events_per_pulse": 5_000,
    "max_events": 5_000,
    "per_trigger": 4,
    "bins": 512,
    "length": 64,
    "peaks": 8,
    "shape": 48,
    "image_shape": 48,
    "detector_shape": 256,
}
#: lower bounds where the kind's own minimum would make a degenerate example
SIZE_FLOORS: dict[str, int] = {"frame_ns": 100_000}
#: parameters left at their defaults (free text the generator passes through as JSON)
FIXED_PARAMS = frozenset({"nexus_structure", "metadata"})
RATES_HZ = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
_NAME_ALPHABET = string.ascii_lowercase + string.digits + "_-"
_FLOAT_SPAN = 1e4


def topic_names() -> st.SearchStrategy[str]:
    """Local topic names in the ESS habit ``<instrument>_<purpose>``."""
    word = st.text(string.ascii_lowercase, min_size=1, max_size=8)
    return st.builds(lambda a, b: f"{a}_{b}", word, word)


def _number(param: Param, kind: type) -> st.SearchStrategy[Any]:
    cap = SIZE_CAPS.get(param.name)
    low = SIZE_FLOORS.get(param.name, param.minimum)
    if kind is int:
        low = 0 if low is None else int(low)
        low = max(low, 1) if param.positive else low
        high = param.maximum if param.maximum is not None else low + 1000
        high = min(int(high), cap) if cap is not None else int(high)
        return st.integers(low, max(low, high))
    if low is None:
        low = 1e-3 if param.positive else -_FLOAT_SPAN
    else:
        low = max(float(low), 1e-3 if param.positive else float(low))
    high = float(param.maximum) if param.maximum is not None else max(low, 0.0) + _FLOAT_SPAN
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def param_values(param: Param) -> st.SearchStrategy[Any]:
    """Values valid for ``param`` (within :data:`SIZE_CAPS`)."""
    if param.choices is not None:
        return st.sampled_from(param.choices)
    if param.kind is bool:
        return st.booleans()
    if param.kind in (int, float):
        return _number(param, param.kind)
    if param.kind is str:
        return st.text(_NAME_ALPHABET + ":", min_size=1, max_size=24)
    if param.kind is list and param.item in (int, float):
        item = _number(param, param.item)
        size = param.length
        return st.lists(item, min_size=size or param.min_length or 0, max_size=size or param.max_length or 4)
    return st.just(param.default)


def generatable_kinds() -> list[str]:
    """Kinds whose every parameter has a default (those strategies can make on their own)."""
    return [name for name, kind in stream_kinds().items() if not any(p.required for p in kind.params)]


@st.composite
def _params_of(draw: st.DrawFn, kind: StreamKind) -> dict[str, Any]:
    given = {}
    for param in kind.params:
        if param.name in FIXED_PARAMS or not draw(st.booleans()):
            continue  # leave some at their defaults: the defaults are what users run
        given[param.name] = draw(param_values(param))
    try:
        return kind.resolve(given, f"hypothesis params of {kind.name!r}")
    except ScenarioError:
        # a cross-parameter check refused the combination (e.g. too many elements)
        return kind.resolve({}, f"default params of {kind.name!r}")


def stream_params(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """Validated parameter tables of stream kind ``kind``."""
    return _params_of(get_stream_kind(kind))


@st.composite
def player_specs(draw: st.DrawFn, kinds: Iterable[str] | None = None, name: str | None = None) -> PlayerSpec:
    """A :class:`PlayerSpec` of one of ``kinds`` (default: every generatable kind)."""
    stream = draw(st.sampled_from(sorted(kinds or generatable_kinds())))
    return PlayerSpec(
        name=name or draw(st.text(_NAME_ALPHABET, min_size=1, max_size=12)),
        stream=stream,
        topic=draw(topic_names()),
        partitions=draw(st.integers(1, 3)),
        priority=draw(st.integers(0, 3)),
        divisor=draw(st.integers(1, 4)),
        seed=draw(st.integers(0, 2**32)),
        ack=draw(st.sampled_from(list(AckAfter))),
        clock=draw(st.sampled_from(CLOCKS)),
        params=draw(stream_params(stream)),
    )


@st.composite
def scenarios(draw: st.DrawFn, kinds: Iterable[str] | None = None, max_players: int = 4,
              max_triggers: int = 20, rates_hz: Iterable[float] = RATES_HZ) -> Scenario:
    """Whole scenarios, validated by :meth:`Scenario.from_dict` like a file would be.

    Player names are unique; players sharing a topic agree on its partitions.
    """
    kinds = sorted(kinds or generatable_kinds())
    rate = draw(st.sampled_from(tuple(rates_hz)))
    names = draw(st.lists(st.text(_NAME_ALPHABET, min_size=1, max_size=12), min_size=1, max_size=max_players,
                          unique=True))
    partitions: dict[str, int] = {}
    players = []
    for name in names:
        spec = draw(player_specs(kinds, name=name))
        row = spec.to_dict()
        row["partitions"] = partitions.setdefault(spec.topic, spec.partitions)
        players.append(row)
    head = {
        "name": draw(st.text(_NAME_ALPHABET, min_size=1, max_size=16)),
        "description": "generated by hypothesis",
        "rate": rate,
        "triggers": draw(st.integers(1, max_triggers)),
        "seed": draw(st.integers(0, 2**32)),
        "ack": {"policy": draw(st.sampled_from(ACK_POLICIES)), "timeout": 10.0, "resend": draw(st.integers(0, 3))},
    }
    return Scenario.from_dict({"scenario": head, "players": players}, "<hypothesis>")
