"""The ess-instrument scenario: detector banks as event formation units, a beam monitor and
logs, run for real (director, player processes, Kafka, recorder) and checked."""

from __future__ import annotations

import collections
import itertools
import math

import pytest
from streaming_data_types import DESERIALISERS

from harness.checks.config import ChecksConfig
from harness.errors import ScenarioError
from harness.orchestra.ack import AckAfter
from harness.recording.reader.reader import open_recording
from harness.runs import RunRequest, SizedScenario, run
from harness.scenarios import detector_banks, events_per_pulse, load_scenario, with_events_per_pulse

pytestmark = pytest.mark.timeout(300)

EFU_MAX_EVENTS = 12_400
DATA_CHECKS = ("run", "acks", "levels", "ordering", "run-window", "integrity", "views", "rates")


def test_the_scenario_is_an_instrument_of_banks_monitor_and_logs():
    scenario = load_scenario("ess-instrument")
    banks = detector_banks(scenario)
    assert scenario.rate_hz == 14.0 and len(banks) == 4 and events_per_pulse(scenario) == 1_000_000
    assert len({b.topic for b in banks}) == 4, "one topic per bank"
    assert all(b.params["batching"] == "efu" and b.params["max_events"] == EFU_MAX_EVENTS for b in banks)
    assert all(b.ack is AckAfter.SEND for b in banks), "an EFU does not wait for the broker"
    assert scenario.player("run-control").ack is AckAfter.DELIVERY, "the run start is confirmed before data"
    kinds = {p.stream for p in scenario.players}
    assert {"run-control", "ess-events", "c-spectrum", "a-scalar"} <= kinds
    first_pixels = sorted((b.params["pixel_offset"], b.params["detector_shape"]) for b in banks)
    for (offset, (rows, cols)), (following, _) in itertools.pairwise(first_pixels):
        assert offset + rows * cols <= following, "banks number their pixels apart"


def test_the_total_is_split_over_the_banks_and_validated():
    scenario = load_scenario("ess-instrument")
    split = with_events_per_pulse(scenario, 1_000_003)
    assert [b.params["events_per_pulse"] for b in detector_banks(split)] == [250_001, 250_001, 250_001, 250_000]
    assert events_per_pulse(with_events_per_pulse(scenario, 1e5)) == 100_000
    for bad in (-1, 1.5, float("nan"), float("inf"), True, "1e6", 4 * 10_000_000 + 4):
        with pytest.raises(ScenarioError):
            with_events_per_pulse(scenario, bad)
    with pytest.raises(ScenarioError, match="no enabled 'ess-events' player"):
        with_events_per_pulse(load_scenario("a-scalar"), 10)


def test_every_stream_decodes_as_its_schema(donki_kafka, donki_topics, tmp_path):
    scenario = load_scenario("ess-instrument").ci().with_length(triggers=3)
    outcome = run(RunRequest(SizedScenario.as_given(scenario), donki_kafka, workdir=tmp_path, namespace=donki_topics,
                             checks=ChecksConfig.parse({"golden": False, "rates": False})))
    assert outcome.summary.complete
    with open_recording(outcome.recording) as recording:
        schemas = collections.Counter(r.value[4:8].decode() for r in recording.records())
        for record in recording.records():
            DESERIALISERS[record.value[4:8].decode()](record.value)
    # 3 pulses x 4 banks x 1 message, 3 monitor histograms, 3 + 1 log values, run start and stop
    assert schemas == {"ev44": 12, "da00": 3, "f144": 4, "pl72": 1, "6s4t": 1}


def test_a_short_run_passes_the_checks_with_efu_shaped_messages(donki_kafka, donki_topics, tmp_path):
    total = 60_000  # 15,000 per bank: a full message of 12,400 events and one of 2,600 per pulse
    scenario = with_events_per_pulse(load_scenario("ess-instrument").ci(), total).with_length(triggers=14)
    outcome = run(RunRequest(SizedScenario.as_given(scenario), donki_kafka, workdir=tmp_path, namespace=donki_topics,
                             checks=ChecksConfig.parse({"golden": False})))
    failed = [outcome.checks[name].report() for name in DATA_CHECKS if not outcome.checks[name].passed]
    assert not failed, "\n".join(failed)
    assert outcome.summary.complete and all(s.failed == 0 for s in outcome.summary.streams)

    banks = {b.params["source_name"]: b for b in detector_banks(scenario)}
    pulses: dict[str, dict[int, list]] = collections.defaultdict(lambda: collections.defaultdict(list))
    with open_recording(outcome.recording) as recording:
        for record, message in recording.decoded():
            if record.value[4:8] != b"ev44":
                continue
            assert len(message.reference_time) == 1 and list(message.reference_time_index) == [0]
            assert len(message.pixel_id) == len(message.time_of_flight) <= EFU_MAX_EVENTS
            assert record.timestamp_ms == message.reference_time[0] // 1_000_000, "Kafka time = pulse time"
            pulses[message.source_name][int(message.reference_time[0])].append(message)
    assert set(pulses) == set(banks)
    for source, by_pulse in pulses.items():
        share = banks[source].params["events_per_pulse"]
        assert len(by_pulse) == scenario.triggers, source
        ids = [m.message_id for t in sorted(by_pulse) for m in by_pulse[t]]
        assert ids == list(range(len(ids))), f"{source}: message ids count up in pulse order"
        for messages in by_pulse.values():
            # flushed at pulse change: full messages, then the rest, never two pulses in one
            sizes = [len(m.pixel_id) for m in messages]
            assert len(sizes) == math.ceil(share / EFU_MAX_EVENTS) and sum(sizes) == share
            assert all(n == EFU_MAX_EVENTS for n in sizes[:-1])
            low = banks[source].params["pixel_offset"]
            rows, cols = banks[source].params["detector_shape"]
            assert all(low <= m.pixel_id.min() and m.pixel_id.max() < low + rows * cols for m in messages)
