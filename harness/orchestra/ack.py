"""When a player acknowledges a trigger: the one spelling used by scenarios, CLI and wire."""

from __future__ import annotations

from enum import Enum

from harness.errors import ConfigError

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
        if isinstance(value, AckAfter):
            return value
        for member in cls:
            if member.value == value:
                return member
        raise ConfigError(f"{where}: ack {value!r} must be one of {', '.join(cls.choices())}")
