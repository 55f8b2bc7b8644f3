"""The presized ev44 builder makes exactly the library's bytes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from streaming_data_types import deserialise_ev44, serialise_ev44

from harness.streams import EventGenerator, events
from harness.streams.serialise import serialise_ev44_fast
from harness.streams.templates import ev44_template

int32s = st.integers(-(2**31), 2**31 - 1)
int64s = st.integers(-(2**63), 2**63 - 1)


@st.composite
def event_messages(draw):
    n_pulses = draw(st.integers(0, 4))
    n_events = draw(st.integers(0, 300))
    return dict(
        source_name=draw(st.text(max_size=30)),
        message_id=draw(int64s),
        reference_time=draw(arrays(np.int64, n_pulses, elements=int64s)),
        reference_time_index=draw(arrays(np.int32, n_pulses, elements=int32s)),
        time_of_flight=draw(arrays(np.int32, n_events, elements=int32s)),
        pixel_id=draw(arrays(np.int32, n_events, elements=int32s)),
    )


@settings(max_examples=200)
@given(event_messages())
def test_fast_ev44_is_byte_identical_to_the_library(message):
    assert serialise_ev44_fast(**message) == serialise_ev44(**message)


def test_fast_ev44_of_a_million_events_round_trips():
    rng = np.random.default_rng(0)
    tof = rng.integers(0, 71_428_571, 1_000_000, dtype=np.int32)
    pixels = rng.integers(1, 1 << 20, 1_000_000, dtype=np.int32)
    payload = serialise_ev44_fast("loki", 7, [123], [0], tof, pixels)
    assert payload == serialise_ev44("loki", 7, [123], [0], tof, pixels)
    decoded = deserialise_ev44(payload)
    assert np.array_equal(decoded.time_of_flight, tof) and np.array_equal(decoded.pixel_id, pixels)


@settings(max_examples=200)
@given(event_messages())
def test_an_ev44_template_renders_the_library_bytes(message):
    template = ev44_template(message["source_name"], len(message["reference_time"]), len(message["pixel_id"]))
    values = {k: v for k, v in message.items() if k != "source_name"}
    assert template.render(**values) == serialise_ev44(**message)


def test_efu_messages_from_templates_equal_the_built_ones(monkeypatch):
    def pulses(template_max_events):
        monkeypatch.setattr(events, "TEMPLATE_MAX_EVENTS", template_max_events)
        generator = EventGenerator(seed=3, rate_hz=14.0, events_per_pulse=30_000, batching="efu", max_events=12_400)
        return [m.payload for t in (1, 2, 3) for m in generator.messages(t, t * 71_428_571)]

    templated, built = pulses(events.TEMPLATE_MAX_EVENTS), pulses(0)
    assert len(templated) == 9 and templated == built
    assert [deserialise_ev44(p).message_id for p in templated] == list(range(9))


def test_a_template_refuses_values_of_another_size():
    with pytest.raises(ValueError, match="does not fit a template of 1 and 5"):
        ev44_template("bank", 1, 5).render(0, np.zeros(1, np.int64), np.zeros(1, np.int32), np.zeros(6, np.int32),
                                           np.zeros(6, np.int32))
