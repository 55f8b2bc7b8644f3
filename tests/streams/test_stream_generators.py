"""Every stream's payloads decode with the ESS deserialisers to the values generated, and reproduce."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streaming_data_types import (
    deserialise_6s4t,
    deserialise_ad00,
    deserialise_da00,
    deserialise_ev44,
    deserialise_f144,
    deserialise_pl72,
    deserialise_x5f2,
)

from harness.records import schema_id
from harness.scenarios import stream_kinds
from harness.streams import (
    EventGenerator,
    ImageGenerator,
    MixedGenerator,
    RunControlGenerator,
    ScalarGenerator,
    SpectrumGenerator,
    VolumeGenerator,
)
from harness.streams.generators import GENERATORS, make_generator

T0 = 1_700_000_000_123_456_789  # a data time in ns


def payloads(generator, triggers=range(1, 4)):
    return [m.payload for t in triggers for m in generator.messages(t, T0 + t * 1000)]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "uint16"])
@pytest.mark.parametrize("length", [0, 5])
def test_f144_decodes_to_the_generated_value(dtype, length):
    generator = ScalarGenerator(seed=11, rate_hz=1.0, dtype=dtype, length=length)
    twin = ScalarGenerator(seed=11, rate_hz=1.0, dtype=dtype, length=length)
    (message,) = generator.messages(1, T0)
    decoded = deserialise_f144(message.payload)
    expected = twin.value(twin.rng(1), 0)
    assert decoded.source_name == "sample_env:temperature"
    assert decoded.timestamp_unix_ns == T0 == message.timestamp_ns
    assert np.array_equal(np.asarray(decoded.value), expected)
    if length:  # scalars decode as Python numbers, arrays keep their dtype
        assert decoded.value.dtype == np.dtype(dtype)
    assert message.schema == schema_id(message.payload) == "f144"


def test_f144_drifts_slowly_around_its_base():
    generator = ScalarGenerator(seed=1, rate_hz=1.0, base=300.0, drift_amplitude=2.0, drift_period_s=100.0, noise=0.0)
    values = [deserialise_f144(m.payload).value for t in range(1, 101) for m in generator.messages(t, T0)]
    assert max(values) == pytest.approx(302.0, abs=0.01) and min(values) == pytest.approx(298.0, abs=0.01)
    assert max(abs(np.diff(values))) < 0.2  # slow: no jumps between consecutive readings


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int32", "float32", "float64"])
def test_ad00_frames_decode_with_their_shape_dtype_and_id(dtype):
    generator = ImageGenerator(seed=3, rate_hz=50.0, shape=(48, 32), dtype=dtype)
    twin = ImageGenerator(seed=3, rate_hz=50.0, shape=(48, 32), dtype=dtype)
    messages = [m for t in (1, 2, 3) for m in generator.messages(t, T0 + t)]
    for index, message in enumerate(messages):
        decoded = deserialise_ad00(message.payload)
        assert decoded.unique_id == index + 1
        assert decoded.timestamp_ns == T0 + index + 1
        assert decoded.data.shape == (48, 32) and decoded.data.dtype == np.dtype(dtype)
        assert np.array_equal(decoded.data, twin.frame(twin.rng(index + 1), index))


def test_ad00_spot_moves_between_frames():
    generator = ImageGenerator(seed=3, rate_hz=1.0, shape=(64, 64), background=0.0, spot_sigma=2.0,
                               orbit_period_s=8.0)
    peaks = []
    for trigger in (1, 3, 5):
        data = deserialise_ad00(generator.messages(trigger, T0)[0].payload).data
        peaks.append(np.unravel_index(np.argmax(data), data.shape))
    assert len(set(peaks)) == 3


def test_da00_spectrum_carries_its_tof_axis():
    generator = SpectrumGenerator(seed=5, rate_hz=100.0, bins=200, tof_max_ns=1e6, dtype="int32")
    twin = SpectrumGenerator(seed=5, rate_hz=100.0, bins=200, tof_max_ns=1e6, dtype="int32")
    decoded = deserialise_da00(generator.messages(1, T0)[0].payload)
    variables = {v.name: v for v in decoded.data}
    assert decoded.source_name == "monitor:spectrum" and decoded.timestamp_ns == T0
    assert variables["signal"].axes == ["tof"] and variables["signal"].unit == "counts"
    assert np.array_equal(variables["signal"].data, twin.spectrum(twin.rng(1), 0))
    assert variables["tof"].unit == "ns" and variables["tof"].data.shape == (201,)
    assert np.allclose(variables["tof"].data, np.linspace(0, 1e6, 201))


def test_da00_volume_has_three_axes():
    generator = VolumeGenerator(seed=7, rate_hz=1000.0, shape=(4, 5, 6), voxel_mm=0.5)
    twin = VolumeGenerator(seed=7, rate_hz=1000.0, shape=(4, 5, 6), voxel_mm=0.5)
    decoded = deserialise_da00(generator.messages(1, T0)[0].payload)
    variables = {v.name: v for v in decoded.data}
    assert variables["signal"].axes == ["x", "y", "z"]
    assert np.array_equal(variables["signal"].data, twin.volume(twin.rng(1), 0))
    for axis, n in zip("xyz", (4, 5, 6), strict=True):
        assert variables[axis].axes == [axis] and variables[axis].data.shape == (n,)
        assert np.allclose(np.diff(variables[axis].data), 0.5)


def test_per_trigger_spreads_timestamps_over_the_trigger_period():
    generator = VolumeGenerator(seed=1, rate_hz=100.0, per_trigger=10, shape=(2, 2, 2))
    stamps = [deserialise_da00(m.payload).timestamp_ns for m in generator.messages(1, T0)]
    assert np.array_equal(np.diff(stamps), np.full(9, 1_000_000))  # 1 kHz


def test_mixed_puts_four_schemas_on_one_trigger():
    generator = MixedGenerator(seed=9, rate_hz=10.0, image_shape=(8, 8), bins=16)
    messages = generator.messages(1, T0)
    assert [m.schema for m in messages] == ["f144", "ad00", "da00", "x5f2"]
    assert [schema_id(m.payload) for m in messages] == ["f144", "ad00", "da00", "x5f2"]
    assert deserialise_f144(messages[0].payload).source_name == "mixed:temperature"
    assert deserialise_ad00(messages[1].payload).data.shape == (8, 8)
    status = deserialise_x5f2(messages[3].payload)
    assert status.service_id == "mixed:status" and status.update_interval == 100
    assert json.loads(status.status_json) == {"frame": 1, "state": "running", "time_ns": T0}
    assert {m.timestamp_ns for m in messages} == {T0}


def test_run_control_start_and_stop_decode():
    control = RunControlGenerator(seed=4, rate_hz=1.0, run_name="r1", filename="f.nxs", broker="b:9092",
                                  nexus_structure='{"children": []}')
    start = deserialise_pl72(control.start_message(T0).payload)
    stop = deserialise_6s4t(control.stop_message(T0 + 5_000_000_000).payload)
    assert start.job_id == stop.job_id == "donki-00000004"
    assert (start.run_name, start.filename, start.broker) == ("r1", "f.nxs", "b:9092")
    assert start.nexus_structure == '{"children": []}'
    assert start.start_time == T0 // 1_000_000 and stop.stop_time == (T0 + 5_000_000_000) // 1_000_000
    assert control.messages(1, T0) == []


# the generator kinds only: the registry also holds plugin kinds (e.g. "captured") without generators
@pytest.mark.parametrize("kind", sorted(k for k in stream_kinds() if k in GENERATORS and k != "run-control"))
def test_every_kind_reproduces_byte_identical_payloads_from_its_seed(kind):
    params = stream_kinds()[kind].resolve({}, kind)
    if kind == "b-image":
        params["shape"] = [32, 32]
    first = make_generator(kind, params, seed=123, rate_hz=10.0)
    second = make_generator(kind, params, seed=123, rate_hz=10.0)
    other = make_generator(kind, params, seed=124, rate_hz=10.0)
    assert payloads(first) == payloads(second)
    assert payloads(first) != payloads(other)


def test_a_trigger_does_not_depend_on_earlier_triggers_random_draws():
    # trigger 3 alone gives the data of trigger 3 (counters aside): runs can be cut and compared
    full = ImageGenerator(seed=2, rate_hz=1.0, shape=(16, 16))
    for t in (1, 2):
        full.messages(t, T0)
    late = ImageGenerator(seed=2, rate_hz=1.0, shape=(16, 16))
    late.produced = 2
    assert full.messages(3, T0) == late.messages(3, T0)


class TestEvents:
    def decode(self, messages):
        return [deserialise_ev44(m.payload) for m in messages]

    def test_pulse_message_fields(self):
        generator = EventGenerator(seed=1, rate_hz=14.0, events_per_pulse=5000, detector_shape=(64, 32),
                                   pixel_offset=1)
        events = self.decode(m for t in (1, 2, 3) for m in generator.messages(t, T0 + t * 71_428_571))
        assert [e.message_id for e in events] == [0, 1, 2]
        for trigger, event in zip((1, 2, 3), events, strict=True):
            assert list(event.reference_time) == [T0 + trigger * 71_428_571]
            assert list(event.reference_time_index) == [0]
            assert len(event.pixel_id) == len(event.time_of_flight) == 5000
            assert event.pixel_id.min() >= 1 and event.pixel_id.max() <= 64 * 32
            assert event.time_of_flight.min() >= 0 and event.time_of_flight.max() < 71_428_571

    def test_decoded_events_are_the_generated_ones(self):
        generator = EventGenerator(seed=8, rate_hz=14.0, events_per_pulse=3000)
        twin = EventGenerator(seed=8, rate_hz=14.0, events_per_pulse=3000)
        (event,) = self.decode(generator.messages(5, T0))
        tof, pixels = twin.pulse_events(twin.rng(5))
        assert np.array_equal(event.time_of_flight, tof) and np.array_equal(event.pixel_id, pixels)

    def test_peaked_distribution_is_not_uniform(self):
        generator = EventGenerator(seed=2, rate_hz=14.0, events_per_pulse=200_000, detector_shape=(128, 128),
                                   peaks=4, peak_fraction=0.7)
        (event,) = self.decode(generator.messages(1, T0))
        counts = np.bincount(event.pixel_id, minlength=128 * 128 + 1)
        busiest = np.sort(counts)[::-1][: len(counts) // 100].sum()
        assert busiest > 0.4 * len(event.pixel_id)  # 1% of pixels hold most events
        tof_hist = np.histogram(event.time_of_flight, bins=100, range=(0, 71_428_571))[0]
        assert tof_hist.max() > 5 * np.median(tof_hist)

    def test_uniform_distribution_covers_the_detector_evenly(self):
        generator = EventGenerator(seed=2, rate_hz=14.0, events_per_pulse=100_000, detector_shape=(10, 10),
                                   distribution="uniform", pixel_offset=0)
        (event,) = self.decode(generator.messages(1, T0))
        counts = np.bincount(event.pixel_id, minlength=100)
        assert counts.min() > 800 and counts.max() < 1200

    def test_efu_batching_flushes_on_pulse_change_and_at_max_events(self):
        generator = EventGenerator(seed=3, rate_hz=14.0, events_per_pulse=2500, batching="efu", max_events=1000)
        first = self.decode(generator.messages(1, T0))
        second = self.decode(generator.messages(2, T0 + 71_428_571))
        assert [len(e.pixel_id) for e in first] == [1000, 1000, 500]
        assert [e.message_id for e in first + second] == list(range(6))
        assert {int(e.reference_time[0]) for e in first} == {T0}
        assert {int(e.reference_time[0]) for e in second} == {T0 + 71_428_571}

    def test_several_pulses_per_trigger(self):
        generator = EventGenerator(seed=3, rate_hz=1.4, per_trigger=10, events_per_pulse=10)
        events = self.decode(generator.messages(1, T0))
        times = [int(e.reference_time[0]) for e in events]
        assert set(np.diff(times)) <= {71_428_571, 71_428_572}  # 1/14 s, rounded to whole ns

    def test_empty_pulse_still_sends_its_message(self):
        generator = EventGenerator(seed=3, rate_hz=14.0, events_per_pulse=0)
        (event,) = self.decode(generator.messages(1, T0))
        assert len(event.pixel_id) == 0 and list(event.reference_time) == [T0]
