"""Stream E: several schemas on one topic per trigger (f144, ad00, da00 and x5f2 status)."""

from __future__ import annotations

from typing import Any

from harness.streams.base import StreamGenerator, StreamMessage
from harness.streams.image import ImageGenerator
from harness.streams.scalar import ScalarGenerator
from harness.streams.spectrum import SpectrumGenerator
from harness.streams.status import StatusGenerator

__all__ = ["MixedGenerator"]


class MixedGenerator(StreamGenerator):
    """Per trigger one message of each part, in time order, each part with its own source.

    The parts share the seed but draw from separate random streams (salts 1-4), so
    adding a part never changes the payloads of another.
    """

    schema = "mixed"

    def __init__(self, *, source_prefix: str = "mixed", image_shape: tuple[int, int] = (64, 64),
                 image_dtype: str = "uint16", bins: int = 256, **common: Any) -> None:
        super().__init__(**common)
        base: dict[str, Any] = {"seed": self.seed, "rate_hz": self.rate_hz, "per_trigger": self.per_trigger}
        self.parts: list[StreamGenerator] = [
            ScalarGenerator(source_name=f"{source_prefix}:temperature", salt=1, **base),
            ImageGenerator(source_name=f"{source_prefix}:camera", shape=image_shape, dtype=image_dtype, salt=2, **base),
            SpectrumGenerator(source_name=f"{source_prefix}:monitor", bins=bins, salt=3, **base),
            StatusGenerator(source_name=f"{source_prefix}:status", salt=4, **base),
        ]

    @property
    def schemas(self) -> tuple[str, ...]:
        return tuple(part.schema for part in self.parts)

    def messages(self, trigger: int, time_ns: int) -> list[StreamMessage]:
        out = [m for part in self.parts for m in part.messages(trigger, time_ns)]
        out.sort(key=lambda m: m.timestamp_ns)  # stable: parts keep their order within one instant
        self.produced += self.per_trigger
        return out
