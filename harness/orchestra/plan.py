"""What a run is asked to do: trigger count, base rate, ack deadline and policy."""

from __future__ import annotations

import enum
import json
import math
from dataclasses import asdict, dataclass
from typing import Any

from harness.errors import ConfigError

__all__ = ["AckPolicy", "MAX_CATCH_UP", "RunPlan", "Seat", "is_due"]

#: The most periods a schedule makes up after a stall (a burst of this many triggers at most)
MAX_CATCH_UP = 1000


class AckPolicy(str, enum.Enum):
    """What the director does when an ack deadline passes."""

    FAIL = "fail"  # abort the run (the test fails)
    SKIP = "skip"  # journal the miss and go on
    RESEND = "resend"  # re-send up to ``resends`` times, then journal the miss and go on


@dataclass(frozen=True)
class Seat:
    """A player as the scheduler sees it: who, at which level, how often."""

    name: str
    priority: int
    divisor: int = 1


def is_due(trigger: int, divisor: int) -> bool:
    """A player with ``divisor`` m is due on trigger 1 and every m-th trigger after it."""
    return (trigger - 1) % divisor == 0


@dataclass(frozen=True)
class RunPlan:
    """One run's parameters.

    Parameters
    ----------
    count
        Number of triggers (``None``: endless until stopped).
    rate_hz
        Base trigger rate (``None``: as fast as the players ack).
    ack_timeout_s
        Deadline for each (trigger, player) ack, per attempt.
    policy
        :class:`AckPolicy` applied when a deadline passes or a player is lost.
    resends
        Extra attempts under :attr:`AckPolicy.RESEND`.
    first_trigger
        Number of the first trigger (a resumed sequence may start later than 1).
    catch_up
        How many periods late the schedule may fall and still be kept: after a stall shorter
        than that, the next triggers go as soon as the previous one completes until the schedule
        is met again, so the run keeps its rate (a beam's pulses keep coming while a source
        stalls). A longer stall moves the schedule to now. 1: a trigger late by less than one
        period is made up, as before; never a burst of more than ``catch_up`` triggers.
    """

    count: int | None = None
    rate_hz: float | None = None
    ack_timeout_s: float = 1.0
    policy: AckPolicy = AckPolicy.SKIP
    resends: int = 0
    first_trigger: int = 1
    catch_up: int = 1

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "policy", AckPolicy(self.policy))
        except ValueError:
            allowed = ", ".join(p.value for p in AckPolicy)
            raise ConfigError(f"run policy {self.policy!r} is unknown; expected one of: {allowed}") from None
        _require(self.count is None or (isinstance(self.count, int) and self.count >= 1),
                 f"run count {self.count!r} must be an integer >= 1, or None for an endless run")
        _require(self.rate_hz is None or (math.isfinite(self.rate_hz) and self.rate_hz > 0),
                 f"run rate {self.rate_hz!r} Hz must be > 0, or None for as fast as players ack")
        _require(math.isfinite(self.ack_timeout_s) and self.ack_timeout_s > 0,
                 f"ack timeout {self.ack_timeout_s!r} s must be > 0")
        _require(isinstance(self.resends, int) and self.resends >= 0, f"resends {self.resends!r} must be >= 0")
        _require(self.policy is AckPolicy.RESEND or self.resends == 0,
                 f"resends={self.resends} only applies with policy 'resend', not {self.policy.value!r}")
        _require(isinstance(self.first_trigger, int) and self.first_trigger >= 1,
                 f"first trigger {self.first_trigger!r} must be an integer >= 1")
        _require(isinstance(self.catch_up, int) and not isinstance(self.catch_up, bool)
                 and 1 <= self.catch_up <= MAX_CATCH_UP,
                 f"catch_up {self.catch_up!r} must be an integer from 1 to {MAX_CATCH_UP} (periods)")

    @property
    def period_s(self) -> float:
        return 0.0 if self.rate_hz is None else 1.0 / self.rate_hz

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["policy"] = self.policy.value
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)
