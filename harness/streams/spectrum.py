"""Stream C: a 1D time-of-flight spectrum with its bin-edge axis, as da00."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from harness.streams.base import FrameGenerator, StreamMessage
from harness.streams.image import to_dtype
from harness.streams.templates import PatchTemplate, da00_template

if TYPE_CHECKING:
    from streaming_data_types.dataarray_da00 import Variable

__all__ = ["SpectrumGenerator", "ARRAY_DTYPES"]

ARRAY_DTYPES = ("float64", "float32", "int64", "int32", "uint32", "uint64")


class SpectrumGenerator(FrameGenerator):
    """Histograms of ``bins`` counts over ``[0, tof_max_ns)``: background plus peaks.

    The peaks (positions fixed by the seed) breathe slowly in height, the counts are
    Poisson. The da00 message holds two variables in the ESS/scipp habit: ``signal``
    on axis ``tof`` and the coordinate ``tof`` with ``bins + 1`` edges in ns.
    """

    schema = "da00"

    def __init__(self, *, source_name: str = "monitor:spectrum", bins: int = 1000, tof_max_ns: float = 71_428_571.0,
                 peaks: int = 3, peak_counts: float = 200.0, background: float = 5.0, dtype: str = "float64",
                 **common: Any) -> None:
        super().__init__(**common)
        self.source_name = source_name
        self.bins = int(bins)
        self.dtype = np.dtype(dtype)
        self.background = background
        self.peak_counts = peak_counts
        self.edges = np.linspace(0.0, tof_max_ns, self.bins + 1)
        layout = np.random.default_rng([self.seed, self.salt, 0x5BEC])
        self.peak_bins = layout.uniform(0.1, 0.9, peaks) * self.bins
        self.peak_widths = layout.uniform(0.005, 0.02, peaks) * self.bins
        self._template: PatchTemplate | None = None  # serialised once, on the first message

    def expected(self, index: int) -> np.ndarray:
        centres = np.arange(self.bins, dtype=np.float64)
        breathing = 1.0 + 0.3 * np.sin(2 * np.pi * self.elapsed_s(index) / 60.0)
        counts = np.full(self.bins, self.background)
        for position, width in zip(self.peak_bins, self.peak_widths, strict=True):
            counts += breathing * self.peak_counts * np.exp(-0.5 * ((centres - position) / width) ** 2)
        return counts

    def spectrum(self, rng: np.random.Generator, index: int) -> np.ndarray:
        return to_dtype(rng.poisson(self.expected(index)), self.dtype)

    def variables(self, signal: np.ndarray) -> list[Variable]:
        """The da00 variables: ``signal`` on axis ``tof``, then the ``tof`` bin edges."""
        from streaming_data_types.dataarray_da00 import Variable

        return [
            Variable(name="signal", data=signal, axes=["tof"], unit="counts"),
            Variable(name="tof", data=self.edges, axes=["tof"], unit="ns"),
        ]

    def make(self, rng: np.random.Generator, index: int, time_ns: int) -> StreamMessage:
        signal = self.spectrum(rng, index)
        if self._template is None:  # the axis never changes: serialise the layout once
            self._template = da00_template(self.source_name, self.variables(signal))
        payload = self._template.render(time_ns, signal)
        return StreamMessage(payload, int(time_ns), self.schema, self.source_name.encode())
