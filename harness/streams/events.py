"""ESS neutron events: ev44 messages of 14 Hz proton pulses, up to millions of events each.

Each trigger is a pulse (or ``per_trigger`` pulses): ``reference_time`` is the pulse
time, ``time_of_flight`` lies in the 71 ms frame, ``pixel_id`` comes from a detector of
``detector_shape`` pixels numbered from ``pixel_offset``. The ``peaked`` distribution
puts most events into a few spots, each with its own time of flight (like Bragg peaks),
over a uniform background with a moderator-like time spectrum.

Speed: drawing a million events from that mixture directly costs more than a pulse
period on a small machine. So the generator draws, once, a pool of up to 2**20 (pixel,
tof) pairs from the distribution (16 per event of a pulse, at least 2**14), and per pulse
picks events from the pool with one 32-bit random word each: the top bits choose the
pool entry, the low 12 bits jitter its time of flight by up to 4 us. Events are still independent draws
from (a 1M-sample picture of) the distribution, and a pulse costs three vector operations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.streams.base import StreamGenerator, StreamMessage
from harness.streams.serialise import serialise_ev44_fast
from harness.streams.templates import Ev44Template, ev44_template

__all__ = ["EventGenerator", "ESS_PULSE_HZ", "ESS_FRAME_NS", "DISTRIBUTIONS", "BATCHING"]

ESS_PULSE_HZ = 14.0
ESS_FRAME_NS = 71_428_571  # 1 / 14 Hz
DISTRIBUTIONS = ("peaked", "uniform")
BATCHING = ("pulse", "efu")

MAX_POOL_BITS = 20
MIN_POOL_BITS = 14
POOL_PER_EVENT = 16
JITTER_BITS = 12  # 32 - MAX_POOL_BITS: index and jitter bits never overlap
JITTER_NS = 1 << JITTER_BITS
#: messages up to this many events are patched into a template of their size (EFU-sized
#: messages: the builder's per-message Python work would dominate); larger ones are built
TEMPLATE_MAX_EVENTS = 200_000
#: templates kept per generator: the full message size and the rests of pulses
TEMPLATES_KEPT = 8


def pool_bits(events_per_pulse: int) -> int:
    """log2 of the pool size for pulses of ``events_per_pulse`` events."""
    wanted = max(1, POOL_PER_EVENT * events_per_pulse).bit_length()
    return min(MAX_POOL_BITS, max(MIN_POOL_BITS, wanted))


class EventGenerator(StreamGenerator):
    """ev44 messages for neutron-event pulses.

    ``batching="pulse"`` sends one message per pulse; ``"efu"`` follows the event
    formation unit: a message is flushed when the pulse changes or when it holds
    ``max_events`` events. ``message_id`` counts the messages of the source from 0.
    """

    schema = "ev44"

    def __init__(self, *, source_name: str = "donki_detector", events_per_pulse: int = 10_000,
                 detector_shape: tuple[int, int] = (512, 512), pixel_offset: int = 1,
                 distribution: str = "peaked", peaks: int = 6, peak_fraction: float = 0.7,
                 batching: str = "pulse", max_events: int = 100_000, frame_ns: int = ESS_FRAME_NS,
                 **common: Any) -> None:
        super().__init__(**common)
        if distribution not in DISTRIBUTIONS or batching not in BATCHING:
            raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, batching one of {BATCHING}")
        self.source_name = source_name
        self.events_per_pulse = int(events_per_pulse)
        self.detector_shape = (int(detector_shape[0]), int(detector_shape[1]))
        self.pixel_offset = int(pixel_offset)
        self.distribution = distribution
        self.batching = batching
        self.max_events = int(max_events)
        self.frame_ns = int(frame_ns)
        self.message_id = 0
        self.templates: dict[int, Ev44Template] = {}
        self.pool: tuple[np.ndarray, np.ndarray] | None = None
        if distribution == "peaked":
            self.pool = self._draw_pool(int(peaks), float(peak_fraction))

    @property
    def n_pixels(self) -> int:
        return self.detector_shape[0] * self.detector_shape[1]

    def _draw_pool(self, peaks: int, peak_fraction: float) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, self.salt, 0xE7E7])
        rows, cols = self.detector_shape
        self.pool_bits = pool_bits(self.events_per_pulse)
        size = 1 << self.pool_bits
        in_peaks = rng.random(size) < peak_fraction
        n_peak = int(in_peaks.sum())
        weights = rng.uniform(0.5, 1.5, peaks)
        which = rng.choice(peaks, size=n_peak, p=weights / weights.sum())
        centre_r, centre_c = rng.uniform(0.1, 0.9, (2, peaks)) * np.array([[rows], [cols]])
        width = max(1.0, 0.01 * min(rows, cols))
        tof_limit = self.frame_ns - JITTER_NS
        centre_t = rng.uniform(0.1, 0.9, peaks) * tof_limit
        r = np.clip(np.rint(centre_r[which] + width * rng.standard_normal(n_peak)), 0, rows - 1)
        c = np.clip(np.rint(centre_c[which] + width * rng.standard_normal(n_peak)), 0, cols - 1)
        pixels = np.empty(size, dtype=np.int32)
        tofs = np.empty(size, dtype=np.int32)
        pixels[in_peaks] = (r * cols + c).astype(np.int32)
        tofs[in_peaks] = np.clip(centre_t[which] + 0.01 * tof_limit * rng.standard_normal(n_peak), 0, tof_limit)
        n_background = size - n_peak
        pixels[~in_peaks] = rng.integers(0, rows * cols, n_background, dtype=np.int32)
        # a moderator-like spectrum: a fast rise and a long tail over the frame
        tofs[~in_peaks] = np.clip(rng.gamma(2.0, tof_limit / 8, n_background), 0, tof_limit)
        pixels += np.int32(self.pixel_offset)
        return pixels, tofs

    def pulse_events(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``(time_of_flight, pixel_id)`` of one pulse, int32 each."""
        n = self.events_per_pulse
        if self.pool is None:
            tof = rng.integers(0, self.frame_ns, n, dtype=np.int32)
            pixels = rng.integers(0, self.n_pixels, n, dtype=np.int32) + np.int32(self.pixel_offset)
            return tof, pixels
        words = np.frombuffer(rng.bytes(4 * n), dtype="<u4")
        # np.take with a native index is the fastest gather numpy offers
        index = np.right_shift(words, np.uint32(32 - self.pool_bits), dtype=np.intp, casting="unsafe")
        pool_pixels, pool_tofs = self.pool
        tof = np.take(pool_tofs, index)
        tof += np.bitwise_and(words, np.uint32(JITTER_NS - 1)).view(np.int32)
        return tof, np.take(pool_pixels, index)

    def messages(self, trigger: int, time_ns: int) -> list[StreamMessage]:
        rng = self.rng(trigger)
        out: list[StreamMessage] = []
        for pulse in range(self.per_trigger):
            pulse_ns = self.stamp(int(time_ns) + round(pulse * self.message_period_ns))
            tof, pixels = self.pulse_events(rng)
            out.extend(self._pulse_messages(pulse_ns, tof, pixels))
            self.produced += 1
        return out

    def _pulse_messages(self, pulse_ns: int, tof: np.ndarray, pixels: np.ndarray) -> list[StreamMessage]:
        n = len(tof)
        step = n if self.batching == "pulse" else self.max_events
        starts = range(0, max(n, 1), max(step, 1))  # an empty pulse still sends its (empty) message
        return [self._message(pulse_ns, tof[s:s + step], pixels[s:s + step]) for s in starts]

    def _message(self, pulse_ns: int, tof: np.ndarray, pixels: np.ndarray) -> StreamMessage:
        reference_time, reference_index = np.array([pulse_ns], dtype=np.int64), np.zeros(1, dtype=np.int32)
        if len(tof) <= TEMPLATE_MAX_EVENTS:
            payload = self._template(len(tof)).render(self.message_id, reference_time, reference_index, tof, pixels)
        else:
            payload = serialise_ev44_fast(self.source_name, self.message_id, reference_time, reference_index, tof,
                                          pixels)
        self.message_id += 1
        return StreamMessage(payload, pulse_ns, self.schema, self.source_name.encode())

    def _template(self, events: int) -> Ev44Template:
        template = self.templates.get(events)
        if template is None:
            if len(self.templates) >= TEMPLATES_KEPT:
                self.templates.clear()
            template = self.templates[events] = ev44_template(self.source_name, 1, events)
        return template
