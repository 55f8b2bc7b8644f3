"""Patched templates give exactly the bytes the library serialisers give."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from streaming_data_types import serialise_ad00
from streaming_data_types.dataarray_da00 import Variable, serialise_da00

from harness.streams import ImageGenerator, SpectrumGenerator, VolumeGenerator
from harness.streams.templates import ad00_template, da00_template

DTYPES = st.sampled_from(["uint8", "uint16", "int32", "uint32", "int64", "float32", "float64"])
timestamps = st.integers(0, 2**63 - 1)


def same_kind_arrays(dtype, shape):
    return arrays(dtype, shape, elements=st.integers(0, 100) if np.dtype(dtype).kind in "iu" else st.floats(-1e6, 1e6))


@settings(max_examples=60)
@given(st.data(), DTYPES, st.lists(st.integers(1, 6), min_size=1, max_size=3), timestamps, timestamps)
def test_da00_template_matches_serialise_da00(data, dtype, shape, first_time, later_time):
    first = data.draw(same_kind_arrays(dtype, tuple(shape)))
    later = data.draw(same_kind_arrays(dtype, tuple(shape)))
    axes = [f"d{i}" for i in range(len(shape))]

    def variables(signal):
        coords = [Variable(name=a, data=np.arange(n, dtype=np.float64), axes=[a], unit="mm")
                  for a, n in zip(axes, shape, strict=True)]
        return [Variable(name="signal", data=signal, axes=axes, unit="counts"), *coords]

    template = da00_template("src", variables(first), first_time)
    assert template.render(first_time, first) == serialise_da00("src", first_time, variables(first))
    assert template.render(later_time, later) == serialise_da00("src", later_time, variables(later))


@settings(max_examples=60)
@given(st.data(), DTYPES, st.tuples(st.integers(1, 9), st.integers(1, 9)), timestamps, st.integers(0, 2**31 - 1))
def test_ad00_template_matches_serialise_ad00(data, dtype, shape, time_ns, unique_id):
    first = data.draw(same_kind_arrays(dtype, shape))
    later = data.draw(same_kind_arrays(dtype, shape))
    template = ad00_template("cam", first)
    assert template.render(time_ns, later, unique_id) == serialise_ad00("cam", unique_id, time_ns, later)


def test_generators_emit_what_the_library_would():
    t0 = 1_700_000_000_000_000_000
    image = ImageGenerator(seed=1, rate_hz=10.0, shape=(20, 30), dtype="uint16")
    twin = ImageGenerator(seed=1, rate_hz=10.0, shape=(20, 30), dtype="uint16")
    for trigger in (1, 2, 3):
        (message,) = image.messages(trigger, t0 + trigger)
        frame = twin.frame(twin.rng(trigger), trigger - 1)
        assert message.payload == serialise_ad00("detector:camera", trigger, t0 + trigger, frame)
    pairs = ((SpectrumGenerator(seed=2, rate_hz=10.0, bins=50), SpectrumGenerator(seed=2, rate_hz=10.0, bins=50)),
             (VolumeGenerator(seed=3, rate_hz=10.0, shape=(3, 4, 5)),
              VolumeGenerator(seed=3, rate_hz=10.0, shape=(3, 4, 5))))
    for generator, twin in pairs:
        for trigger in (1, 2):
            (message,) = generator.messages(trigger, t0 + trigger)
            make = twin.spectrum if isinstance(twin, SpectrumGenerator) else twin.volume
            signal = make(twin.rng(trigger), trigger - 1)
            assert message.payload == serialise_da00(generator.source_name, t0 + trigger, twin.variables(signal))
