"""Deliberate defects in a stream, to test consumers and the harness's own checks.

A consumer under test must notice a lost message, a corrupted payload or a reordered
pair; a file writer must survive a producer that falls behind. A player's ``faults``
table asks for such defects by message sequence number (``donki.seq``) or trigger:

``drop``      these messages are counted as sent and delivered but never reach Kafka
``corrupt``   these messages reach Kafka with one payload byte flipped (their
              ``donki.crc32`` header still has the CRC of the intact payload)
``swap``      message n and n+1 are handed to Kafka in the opposite order (same trigger)
``delay_s``   the player works this long longer on every trigger (it falls behind)
``stall_trigger``/``stall_s``  the player hangs this long on one trigger (a late ack)
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from harness.kinds import Param, resolve_params

__all__ = ["Faults", "FAULT_PARAMS", "NO_FAULTS"]

T = TypeVar("T")

FAULT_PARAMS = (
    Param("drop", list, [], "message seq numbers counted as sent but never handed to Kafka", item=int, minimum=0),
    Param("corrupt", list, [], "message seq numbers whose payload gets one byte flipped", item=int, minimum=0),
    Param("swap", list, [], "seq n: messages n and n+1 are sent in the opposite order", item=int, minimum=0),
    Param("delay_s", float, 0.0, "extra seconds of work on every trigger", minimum=0.0, maximum=60.0),
    Param("stall_trigger", int, 0, "trigger on which the player hangs (0: none)", minimum=0),
    Param("stall_s", float, 0.0, "seconds the player hangs on stall_trigger", minimum=0.0, maximum=600.0),
)


@dataclass(frozen=True)
class Faults:
    """The defects one player injects (see the module docstring)."""

    drop: frozenset[int] = field(default_factory=frozenset)
    corrupt: frozenset[int] = field(default_factory=frozenset)
    swap: frozenset[int] = field(default_factory=frozenset)
    delay_s: float = 0.0
    stall_trigger: int = 0
    stall_s: float = 0.0

    @classmethod
    def from_params(cls, table: Mapping[str, Any] | None, where: str = "faults") -> Faults:
        values = resolve_params(FAULT_PARAMS, dict(table or {}), where)
        return cls(frozenset(values["drop"]), frozenset(values["corrupt"]), frozenset(values["swap"]),
                   values["delay_s"], values["stall_trigger"], values["stall_s"])

    @property
    def any(self) -> bool:
        return bool(self.drop or self.corrupt or self.swap or self.delay_s or self.stall_trigger)

    def before_trigger(self, trigger: int) -> None:
        """Hold the player as asked: a steady delay, or a stall on one trigger."""
        pause = self.delay_s + (self.stall_s if trigger == self.stall_trigger else 0.0)
        if pause > 0:
            time.sleep(pause)

    def order(self, numbered: Sequence[tuple[int, T]]) -> list[tuple[int, T]]:
        """(seq, item) pairs in sending order, with the asked pairs swapped."""
        out = list(numbered)
        for i in range(len(out) - 1):
            if out[i][0] in self.swap:
                out[i], out[i + 1] = out[i + 1], out[i]
        return out

    def damage(self, seq: int, payload: bytes) -> bytes:
        """``payload`` as it should reach Kafka: with one byte flipped if ``seq`` is corrupted."""
        if seq not in self.corrupt or not payload:
            return payload
        middle = len(payload) // 2
        return payload[:middle] + bytes([payload[middle] ^ 0xFF]) + payload[middle + 1:]


NO_FAULTS = Faults()
