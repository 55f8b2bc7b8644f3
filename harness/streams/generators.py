"""The generator of each built-in stream kind, built from its validated parameters."""

from __future__ import annotations

from typing import Any

from harness.streams.base import StreamGenerator
from harness.streams.events import EventGenerator
from harness.streams.image import ImageGenerator
from harness.streams.mixed import MixedGenerator
from harness.streams.runcontrol import RunControlGenerator
from harness.streams.scalar import ScalarGenerator
from harness.streams.spectrum import SpectrumGenerator
from harness.streams.volume import VolumeGenerator

__all__ = ["GENERATORS", "make_generator"]

GENERATORS: dict[str, type[StreamGenerator]] = {
    "a-scalar": ScalarGenerator,
    "b-image": ImageGenerator,
    "c-spectrum": SpectrumGenerator,
    "d-array3d": VolumeGenerator,
    "e-mixed": MixedGenerator,
    "ess-events": EventGenerator,
    "run-control": RunControlGenerator,
}

_TUPLE_KEYS = ("shape", "image_shape", "detector_shape")


def make_generator(kind: str, params: dict[str, Any], *, seed: int, rate_hz: float) -> StreamGenerator:
    """The generator of built-in ``kind`` from validated ``params``."""
    options: dict[str, Any] = {k: tuple(v) if k in _TUPLE_KEYS else v for k, v in params.items()}
    return GENERATORS[kind](seed=seed, rate_hz=rate_hz, **options)
