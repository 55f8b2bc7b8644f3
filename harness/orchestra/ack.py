"""When a player acknowledges a trigger: the one spelling used by scenarios, CLI and wire."""

from __future__ import annotations

from enum import Enum

from harness.config import enum_member

__all__ = ["AckAfter"]


class AckAfter(Enum):
    """``DELIVERY``: after Kafka confirmed every message of the trigger (``wait_delivered``);
    ``SEND``: as soon as the action returned. The value is what files, flags and frames carry."""

    DELIVERY = "delivery"
    SEND = "send"

    @classmethod
    def choices(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)

    @classmethod
    def parse(cls, value: AckAfter | str, where: str) -> AckAfter:
        """The member for ``value``; a :class:`ConfigError` naming ``where`` and the choices."""
        return enum_member(cls, value, where, "ack")
