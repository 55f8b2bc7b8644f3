"""Stream A: a slowly drifting sample-environment value with noise, as f144 log data."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.streams.base import FrameGenerator, StreamMessage

__all__ = ["ScalarGenerator", "SCALAR_DTYPES"]

SCALAR_DTYPES = ("float64", "float32", "int64", "int32", "int16", "uint16")


class ScalarGenerator(FrameGenerator):
    """f144 values ``base + amplitude * sin(2 pi t / period) + noise``.

    ``length`` 0 gives a scalar; a positive ``length`` an array of that many readings
    (e.g. a multi-channel thermometer), which is also how a 1 kB f144 message is made.
    Integer dtypes are rounded.
    """

    schema = "f144"

    def __init__(self, *, source_name: str = "sample_env:temperature", base: float = 295.0,
                 drift_amplitude: float = 2.0, drift_period_s: float = 600.0, noise: float = 0.05,
                 dtype: str = "float64", length: int = 0, **common: Any) -> None:
        super().__init__(**common)
        self.source_name = source_name
        self.base = base
        self.drift_amplitude = drift_amplitude
        self.drift_period_s = drift_period_s
        self.noise = noise
        self.dtype = np.dtype(dtype)
        self.length = length

    def value(self, rng: np.random.Generator, index: int) -> np.ndarray:
        """The (noisy) reading of the ``index``-th message."""
        drift = self.drift_amplitude * np.sin(2 * np.pi * self.elapsed_s(index) / self.drift_period_s)
        shape = () if self.length == 0 else (self.length,)
        raw = self.base + drift + self.noise * rng.standard_normal(shape)
        if self.dtype.kind in "iu":
            info = np.iinfo(self.dtype)
            raw = np.clip(np.rint(raw), info.min, info.max)
        return np.asarray(raw).astype(self.dtype)

    def make(self, rng: np.random.Generator, index: int, time_ns: int) -> StreamMessage:
        from streaming_data_types import serialise_f144

        payload = serialise_f144(self.source_name, self.value(rng, index), int(time_ns))
        return StreamMessage(payload, int(time_ns), self.schema, self.source_name.encode())
