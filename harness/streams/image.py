"""Stream B: 2D detector frames with a moving spot, as ad00 area-detector arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.streams.base import FrameGenerator, StreamMessage
from harness.streams.templates import PatchTemplate, ad00_template

__all__ = ["ImageGenerator", "IMAGE_DTYPES", "gaussian_profile", "to_dtype"]

IMAGE_DTYPES = ("uint8", "uint16", "uint32", "int32", "float32", "float64")


def gaussian_profile(n: int, centre: float, sigma: float) -> np.ndarray:
    """``exp(-(i - centre)^2 / 2 sigma^2)`` for ``i`` in ``0..n-1`` (float32)."""
    offsets = (np.arange(n, dtype=np.float32) - np.float32(centre)) / np.float32(sigma)
    return np.exp(np.float32(-0.5) * offsets * offsets)


def to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Cast counts to ``dtype``, saturating integers the way a detector's ADC does."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = np.clip(values, info.min, info.max)
    return values.astype(dtype, copy=False)


class ImageGenerator(FrameGenerator):
    """Frames of Poisson counts: a flat background plus a Gaussian spot circling the centre.

    The spot completes one orbit every ``orbit_period_s`` of data time, so consecutive
    frames differ in a way a consumer (or a golden comparison) can see.
    """

    schema = "ad00"

    def __init__(self, *, source_name: str = "detector:camera", shape: tuple[int, int] = (256, 256),
                 dtype: str = "uint16", spot_sigma: float = 8.0, spot_amplitude: float = 1000.0,
                 background: float = 10.0, orbit_period_s: float = 10.0, **common: Any) -> None:
        super().__init__(**common)
        self.source_name = source_name
        self.shape = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        self.spot_sigma = spot_sigma
        self.spot_amplitude = spot_amplitude
        self.background = background
        self.orbit_period_s = orbit_period_s
        self._template: PatchTemplate | None = None  # serialised once, on the first message

    def spot_centre(self, index: int) -> tuple[float, float]:
        rows, cols = self.shape
        phase = 2 * np.pi * self.elapsed_s(index) / self.orbit_period_s
        radius = min(rows, cols) / 4
        return rows / 2 + radius * np.sin(phase), cols / 2 + radius * np.cos(phase)

    def frame(self, rng: np.random.Generator, index: int) -> np.ndarray:
        """The expected counts with Poisson noise, as ``dtype``."""
        rows, cols = self.shape
        cy, cx = self.spot_centre(index)
        spot = np.outer(gaussian_profile(rows, cy, self.spot_sigma), gaussian_profile(cols, cx, self.spot_sigma))
        expected = np.float32(self.background) + np.float32(self.spot_amplitude) * spot
        return to_dtype(rng.poisson(expected), self.dtype)

    def make(self, rng: np.random.Generator, index: int, time_ns: int) -> StreamMessage:
        frame = self.frame(rng, index)
        if self._template is None:  # the layout is fixed by shape and dtype: serialise it once
            self._template = ad00_template(self.source_name, frame)
        payload = self._template.render(time_ns, frame, index + 1)
        return StreamMessage(payload, int(time_ns), self.schema, self.source_name.encode())
