"""What every stream generator shares: the message type, seeding and timing.

A generator is deterministic: the payloads of trigger ``n`` depend only on the seed,
the parameters, the triggers it was given before (counters such as ``message_id``)
and the ``time_ns`` its caller passes, never on the wall clock or on global state.
Random numbers come from a generator seeded with ``(seed, salt, trigger)``, so two
generators with the same seed and parameters produce byte-identical payloads.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np

__all__ = ["StreamMessage", "StreamGenerator", "FrameGenerator", "NS_PER_S", "ms_from_ns"]

NS_PER_S = 1_000_000_000


def ms_from_ns(time_ns: int) -> int:
    """Kafka timestamps are milliseconds; data timestamps are nanoseconds."""
    return int(time_ns) // 1_000_000


@dataclass(frozen=True)
class StreamMessage:
    """One message to publish: the ESS FlatBuffer payload and the data's own time.

    ``key`` keeps one source's messages in one partition (its order is kept); ``schema``
    is the FlatBuffer id (``"ev44"``), ``timestamp_ns`` the time the data carry.
    """

    payload: bytes
    timestamp_ns: int
    schema: str
    key: bytes | None = None

    @property
    def timestamp_ms(self) -> int:
        return ms_from_ns(self.timestamp_ns)


class StreamGenerator(abc.ABC):
    """Base of the stream generators.

    Parameters
    ----------
    seed
        Seed of every random draw.
    rate_hz
        Trigger rate of the player running it (the scenario's rate / divisor).
    per_trigger
        Messages per trigger; their timestamps are spread evenly over the trigger period,
        so a 10 Hz trigger with ``per_trigger=100`` is a 1 kHz stream.
    salt
        Separates the random streams of generators sharing a seed (the parts of e-mixed).
    """

    #: FlatBuffer schema id of the payloads
    schema: str = ""

    def __init__(self, *, seed: int, rate_hz: float, per_trigger: int = 1, salt: int = 0) -> None:
        if rate_hz <= 0:
            raise ValueError(f"rate_hz must be positive, got {rate_hz!r}")
        self.seed = int(seed)
        self.rate_hz = float(rate_hz)
        self.per_trigger = int(per_trigger)
        self.salt = int(salt)
        self.produced = 0  # messages made so far: frame ids, elapsed data time
        self.last_stamp_ns: int | None = None

    def stamp(self, time_ns: float) -> int:
        """The data time of the next message: ``time_ns``, or 1 ns after the previous one if that is later.

        On the wall clock a trigger may arrive before the spread-out messages of the one
        before it have run out of their period (the director catches up after a slow
        level); the stream's own times must still never go backwards, or a file writer
        that trusts them drops data.
        """
        stamp = int(round(time_ns))
        if self.last_stamp_ns is not None and stamp <= self.last_stamp_ns:
            stamp = self.last_stamp_ns + 1
        self.last_stamp_ns = stamp
        return stamp

    @property
    def message_rate_hz(self) -> float:
        return self.rate_hz * self.per_trigger

    @property
    def message_period_ns(self) -> float:
        return NS_PER_S / self.message_rate_hz

    def rng(self, trigger: int) -> np.random.Generator:
        """The random generator of one trigger (independent of the triggers before it)."""
        return np.random.default_rng([self.seed & 0xFFFFFFFFFFFFFFFF, self.salt, int(trigger)])

    def elapsed_s(self, index: int) -> float:
        """Data time of the ``index``-th message since the stream began (drives drifts)."""
        return index / self.message_rate_hz

    @abc.abstractmethod
    def messages(self, trigger: int, time_ns: int) -> list[StreamMessage]:
        """The messages of ``trigger``, the first stamped ``time_ns``."""


class FrameGenerator(StreamGenerator):
    """A generator whose messages are independent frames, ``per_trigger`` of them per trigger."""

    def messages(self, trigger: int, time_ns: int) -> list[StreamMessage]:
        rng = self.rng(trigger)
        out = []
        for i in range(self.per_trigger):
            stamp = self.stamp(int(time_ns) + round(i * self.message_period_ns))
            out.append(self.make(rng, self.produced, stamp))
            self.produced += 1
        return out

    @abc.abstractmethod
    def make(self, rng: np.random.Generator, index: int, time_ns: int) -> StreamMessage:
        """The ``index``-th message of the stream (from 0), stamped ``time_ns``."""
