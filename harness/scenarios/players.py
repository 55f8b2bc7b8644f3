"""The parts of a scenario that describe one player: its stream, rate, ack and expectations."""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import ScenarioError
from harness.kinds import Param
from harness.orchestra.ack import AckAfter

__all__ = [
    "ACK_POLICIES",
    "ACK_AFTER",
    "ACK_PARAMS",
    "CLOCKS",
    "EXPECT_PARAMS",
    "MAX_PLAYERS",
    "MAX_RATE_HZ",
    "MAX_TRIGGERS",
    "AckSettings",
    "Expectations",
    "PlayerSpec",
    "derive_seed",
    "divisor_for",
    "plain",
]

ACK_POLICIES = ("fail", "skip", "resend")
ACK_AFTER = AckAfter.choices()
CLOCKS = ("wall", "nominal")
MAX_RATE_HZ = 100_000.0
MAX_TRIGGERS = 10**8  # 14 Hz for three months; as harness.validate.MAX_TRIGGERS
MAX_PLAYERS = 64  # player processes per scenario; as the director's default seats
_DIVISOR_TOLERANCE = 1e-6


def derive_seed(scenario_seed: int, player: str) -> int:
    """A player's default seed: stable, and different for each player name."""
    return (scenario_seed * 1_000_003 + zlib.crc32(player.encode())) % (1 << 63)


@dataclass(frozen=True)
class Expectations:
    """What a run of this player must achieve: achieved rate within ``rate_tolerance``
    (relative) of the nominal one, at most ``max_missed`` triggers missed."""

    rate_tolerance: float = 0.2
    max_missed: int = 0


EXPECT_PARAMS = (
    Param("rate_tolerance", float, 0.2, "allowed relative deviation of the achieved rate", minimum=0.0, maximum=1.0),
    Param("max_missed", int, 0, "triggers this player may miss (policy skip)", minimum=0),
)


@dataclass(frozen=True)
class AckSettings:
    """The run's acknowledgement rules (see the Director's ack-timeout policy)."""

    policy: str = "fail"
    timeout_s: float = 10.0
    resend: int = 2
    after: AckAfter = AckAfter.DELIVERY


ACK_PARAMS = (
    Param("policy", str, "fail", "on a missing ack: fail the run, skip and record, or re-send", choices=ACK_POLICIES),
    Param("timeout", float, 10.0, "seconds a level may take to ack one trigger", positive=True, maximum=3600.0),
    Param("resend", int, 2, "re-sends before giving up, with policy 'resend'", minimum=0, maximum=100),
    Param("after", str, "delivery", "players ack after Kafka confirmed delivery, or after sending", choices=ACK_AFTER),
)


@dataclass(frozen=True)
class PlayerSpec:
    """One player: a stream of a registered kind, its topic, rate and priority.

    ``params`` are the kind's parameters with defaults filled in (validated by the kind).
    """

    name: str
    stream: str
    topic: str
    partitions: int = 1
    priority: int = 1
    divisor: int = 1
    seed: int = 0
    ack: AckAfter = AckAfter.DELIVERY
    clock: str = "wall"
    params: Mapping[str, Any] = field(default_factory=dict)
    expect: Expectations = field(default_factory=Expectations)
    producer: Mapping[str, Any] = field(default_factory=dict)
    faults: Mapping[str, Any] = field(default_factory=dict)  # see harness.streams.faults

    def rate_hz(self, base_rate_hz: float) -> float:
        """Nominal trigger rate of this player."""
        return base_rate_hz / self.divisor

    @property
    def enabled(self) -> bool:
        return self.priority >= 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "stream": self.stream, "topic": self.topic, "partitions": self.partitions,
            "priority": self.priority, "divisor": self.divisor, "seed": self.seed, "ack": self.ack.value,
            "clock": self.clock, "params": plain(self.params),
            "expect": {"rate_tolerance": self.expect.rate_tolerance, "max_missed": self.expect.max_missed},
            "producer": dict(self.producer),
            **({"faults": plain(self.faults)} if self.faults else {}),
        }


def plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def divisor_for(rate_hz: float, base_rate_hz: float, where: str) -> int:
    """The integer ``m`` with ``rate = base / m``, or an error listing the rates allowed."""
    if not (isinstance(rate_hz, (int, float)) and not isinstance(rate_hz, bool)) or not rate_hz > 0:
        raise ScenarioError(f"{where}: {rate_hz!r} is not a rate; expected a positive number of Hz")
    ratio = base_rate_hz / rate_hz
    divisor = round(ratio)
    if divisor < 1 or not math.isclose(ratio, divisor, rel_tol=_DIVISOR_TOLERANCE):
        allowed = ", ".join(f"{base_rate_hz / m:g}" for m in range(1, 6))
        raise ScenarioError(f"{where}: {rate_hz:g} Hz is not the scenario rate {base_rate_hz:g} Hz divided by a whole "
                            f"number; allowed rates: {allowed}, ... (or set divisor = m)")
    return divisor

