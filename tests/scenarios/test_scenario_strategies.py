"""The hypothesis strategies make valid scenarios whose streams generate decodable messages."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st
from streaming_data_types import DESERIALISERS

from harness.records import schema_id
from harness.scenarios import Scenario
from harness.streams.generators import make_generator
from pytest_donki.strategies import generatable_kinds, player_specs, scenarios, stream_params

T0 = 1_650_000_000_000_000_000


def decode_all(kind, params, seed, rate_hz, triggers=2):
    generator = make_generator(kind, dict(params), seed=seed, rate_hz=rate_hz)
    if kind == "run-control":
        messages = [generator.start_message(T0), generator.stop_message(T0 + 1)]
    else:
        messages = [m for t in range(1, triggers + 1) for m in generator.messages(t, T0 + t)]
    for message in messages:
        assert schema_id(message.payload) == message.schema
        DESERIALISERS[message.schema](message.payload)
    return messages


def test_every_builtin_kind_is_generatable():
    assert set(generatable_kinds()) >= {"a-scalar", "b-image", "c-spectrum", "d-array3d", "e-mixed", "ess-events",
                                        "run-control"}


@settings(max_examples=30)
@given(st.data())
def test_stream_params_are_valid_and_produce_decodable_messages(data):
    kind = data.draw(st.sampled_from(generatable_kinds()))
    params = data.draw(stream_params(kind))
    start = time.monotonic()
    decode_all(kind, params, seed=data.draw(st.integers(0, 2**40)), rate_hz=10.0)
    assert time.monotonic() - start < 5.0  # bounded: an example stays cheap


@settings(max_examples=20)
@given(player_specs())
def test_player_specs_round_trip(spec):
    assert spec.to_dict()["params"] == dict(spec.params)
    assert spec.enabled


@settings(max_examples=25)
@given(scenarios(max_players=3, max_triggers=10))
def test_scenarios_are_valid_round_trip_and_run_their_generators(scenario):
    assert 1 <= len(scenario.players) <= 3 and 1 <= scenario.triggers <= 10
    assert Scenario.from_dict(scenario.to_dict(), "copy").to_dict() == scenario.to_dict()
    for player in scenario.players:
        decode_all(player.stream, player.params, player.seed, player.rate_hz(scenario.rate_hz), triggers=1)


@settings(max_examples=10)
@given(scenarios(kinds=["ess-events"], max_players=2))
def test_scenarios_can_be_limited_to_some_kinds(scenario):
    assert {p.stream for p in scenario.players} == {"ess-events"}
