"""What a player runs per trigger, and what it reports back in its ack."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["ActionResult", "PlayerAction", "DeliveryAction"]


@dataclass
class ActionResult:
    """What one trigger produced: sent to the director in the ack's counts.

    ``delivered`` is the number of messages Kafka confirmed (``None`` when the action
    does not track delivery); ``failed`` the number Kafka reported as not delivered.
    """

    messages: int = 0
    bytes: int = 0
    delivered: int | None = None
    failed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = {"messages": self.messages, "bytes": self.bytes, "failed": self.failed}
        if self.delivered is not None:
            counts["delivered"] = self.delivered
        return counts


@runtime_checkable
class PlayerAction(Protocol):
    """A player's work. A plain callable ``f(trigger) -> ActionResult | None`` also works.

    Optional methods, called when present:

    ``setup()``                       once, on the director's ``start`` command
    ``teardown()``                    once, on ``stop`` / shutdown (also after errors)
    ``wait_delivered(trigger, timeout_s) -> ActionResult``
                                      in ack-after-delivery mode, blocks until Kafka
                                      confirmed (or failed) every message of ``trigger``
    """

    def __call__(self, trigger: int) -> ActionResult | None: ...


@runtime_checkable
class DeliveryAction(PlayerAction, Protocol):
    """An action that can wait for Kafka's confirmation of a trigger's messages (ack mode ``delivery``)."""

    def wait_delivered(self, trigger: int, timeout_s: float) -> ActionResult | None: ...
