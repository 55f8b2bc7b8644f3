"""Stream D: a 3D array (e.g. a reciprocal-space volume) with three axes, as da00."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from harness.streams.base import FrameGenerator, StreamMessage
from harness.streams.image import gaussian_profile, to_dtype
from harness.streams.templates import PatchTemplate, da00_template

if TYPE_CHECKING:
    from streaming_data_types.dataarray_da00 import Variable

__all__ = ["VolumeGenerator", "AXES"]

AXES = ("x", "y", "z")


class VolumeGenerator(FrameGenerator):
    """3D arrays: a Gaussian blob moving along the diagonal, plus Gaussian noise.

    The da00 message has the variable ``signal`` on axes ``x, y, z`` and one coordinate
    variable per axis (voxel centres in mm).
    """

    schema = "da00"

    def __init__(self, *, source_name: str = "detector:volume", shape: tuple[int, int, int] = (16, 16, 16),
                 dtype: str = "float32", voxel_mm: float = 1.0, blob_sigma: float = 2.0,
                 noise: float = 0.1, **common: Any) -> None:
        super().__init__(**common)
        self.source_name = source_name
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.blob_sigma = blob_sigma
        self.noise = noise
        self.coords = [(np.arange(n) - (n - 1) / 2) * voxel_mm for n in self.shape]
        self._template: PatchTemplate | None = None  # serialised once, on the first message

    def volume(self, rng: np.random.Generator, index: int) -> np.ndarray:
        phase = (self.elapsed_s(index) / 5.0) % 1.0  # crosses the volume every 5 s of data time
        gx, gy, gz = (gaussian_profile(n, phase * (n - 1), self.blob_sigma) for n in self.shape)
        blob = gx[:, None, None] * gy[None, :, None] * gz[None, None, :]
        noisy = np.float32(100.0) * blob + np.float32(self.noise) * rng.standard_normal(self.shape, dtype=np.float32)
        if self.dtype.kind in "iu":
            noisy = np.rint(noisy)
        return to_dtype(noisy, self.dtype)

    def variables(self, signal: np.ndarray) -> list[Variable]:
        """The da00 variables: ``signal`` on ``x, y, z``, then one coordinate per axis."""
        from streaming_data_types.dataarray_da00 import Variable

        variables = [Variable(name="signal", data=signal, axes=list(AXES), unit="counts")]
        return variables + [Variable(name=axis, data=coord, axes=[axis], unit="mm")
                            for axis, coord in zip(AXES, self.coords, strict=True)]

    def make(self, rng: np.random.Generator, index: int, time_ns: int) -> StreamMessage:
        signal = self.volume(rng, index)
        if self._template is None:  # the axes never change: serialise the layout once
            self._template = da00_template(self.source_name, self.variables(signal))
        payload = self._template.render(time_ns, signal)
        return StreamMessage(payload, int(time_ns), self.schema, self.source_name.encode())
