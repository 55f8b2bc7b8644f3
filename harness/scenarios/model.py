"""The scenario model: which players produce what, how often, at which priority, for how long.

Scenarios are immutable. :meth:`Scenario.from_dict` validates a plain mapping (a parsed
TOML file, a stored recording's copy, a hypothesis example) and names the source, the
key and the allowed values in every error; :meth:`Scenario.to_dict` gives the mapping
back, so a scenario survives a round trip through TOML or JSON unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from harness.errors import ScenarioError
from harness.kinds import get_stream_kind
from harness.scenarios.brokerfaults import BrokerFault
from harness.scenarios.players import MAX_TRIGGERS, AckSettings, PlayerSpec, plain
from harness.scenarios.validate import scenario_fields

__all__ = ["Scenario"]

@dataclass(frozen=True)
class Scenario:
    """A whole scenario. ``triggers`` is the run length (``None``: until stopped).

    ``ci_triggers`` and ``ci_params`` describe the CI-sized variant (:meth:`ci`).
    """

    name: str
    rate_hz: float
    players: tuple[PlayerSpec, ...]
    triggers: int | None
    description: str = ""
    seed: int = 0
    ack: AckSettings = field(default_factory=AckSettings)
    ci_triggers: int | None = None
    ci_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = "<scenario>"
    broker_faults: tuple[BrokerFault, ...] = ()
    catch_up: int = 1

    def __repr__(self) -> str:  # short: failure reports show it, and the tables are in to_dict()
        length = "until stopped" if self.triggers is None else f"{self.triggers} triggers"
        return f"<Scenario {self.name!r}: {len(self.players)} player(s), {length} at {self.rate_hz:g} Hz>"

    @property
    def duration_s(self) -> float | None:
        return None if self.triggers is None else self.triggers / self.rate_hz

    def player(self, name: str) -> PlayerSpec:
        for player in self.players:
            if player.name == name:
                return player
        raise ScenarioError(f"{self.source}: no player {name!r}; players: {', '.join(p.name for p in self.players)}")

    def topics(self) -> dict[str, int]:
        """Local topic name -> partitions, in order of first use."""
        return {p.topic: p.partitions for p in self.players}

    def with_length(self, *, triggers: int | None = None, duration_s: float | None = None) -> Scenario:
        """The same scenario run for ``triggers`` triggers or ``duration_s`` seconds."""
        if triggers is not None and duration_s is not None:
            raise ScenarioError("give a trigger count or a duration, not both")
        if duration_s is not None:
            if not (math.isfinite(duration_s) and duration_s > 0) or duration_s * self.rate_hz > MAX_TRIGGERS:
                raise ScenarioError(f"duration {duration_s!r} s: expected a positive number of seconds giving at "
                                    f"most {MAX_TRIGGERS:,} triggers at {self.rate_hz:g} Hz")
            triggers = max(1, round(duration_s * self.rate_hz))
        if triggers is None:
            return self
        if not 1 <= triggers <= MAX_TRIGGERS:
            raise ScenarioError(f"triggers={triggers}: expected 1 to {MAX_TRIGGERS:,}")
        return replace(self, triggers=int(triggers))

    def ci(self) -> Scenario:
        """The CI-sized variant: the ``[scenario.ci]`` length and parameter overrides."""
        players = []
        for player in self.players:
            override = self.ci_params.get(player.name)
            if override:
                merged = {**player.params, **override}
                kind = get_stream_kind(player.stream)
                params = kind.resolve(merged, f"{self.source}: scenario.ci.params.{player.name}")
                player = replace(player, params=params)
            players.append(player)
        triggers = self.ci_triggers if self.ci_triggers is not None else self.triggers
        return replace(self, players=tuple(players), triggers=triggers, ci_params={})

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data (TOML/JSON-able), accepted by :meth:`from_dict`."""
        head: dict[str, Any] = {"name": self.name, "description": self.description, "rate": self.rate_hz,
                                "seed": self.seed}
        if self.triggers is not None:
            head["triggers"] = self.triggers
        if self.catch_up != 1:
            head["catch_up"] = self.catch_up
        head["ack"] = {"policy": self.ack.policy, "timeout": self.ack.timeout_s, "resend": self.ack.resend,
                       "after": self.ack.after.value}
        ci: dict[str, Any] = {}
        if self.ci_triggers is not None:
            ci["triggers"] = self.ci_triggers
        if self.ci_params:
            ci["params"] = plain(self.ci_params)
        if ci:
            head["ci"] = ci
        if self.broker_faults:
            head["broker_faults"] = [fault.to_dict() for fault in self.broker_faults]
        return {"scenario": head, "players": [p.to_dict() for p in self.players]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
        """Validate ``data`` (the layout of a scenario file) into a :class:`Scenario`."""
        return cls(**scenario_fields(data, source))
