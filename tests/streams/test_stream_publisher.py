"""Publishing to a real broker: headers, timestamps, keys and honest delivery counts."""

from __future__ import annotations

import zlib

import pytest
from streaming_data_types import deserialise_6s4t, deserialise_ev44, deserialise_pl72

from harness.errors import ScenarioError
from harness.headers import crc32_hex
from harness.scenarios import get_stream_kind
from harness.streams import ScalarGenerator, StreamPublisher
from harness.streams.actions import MAX_TRIGGERS_IN_FLIGHT, PLAYER_KEY, PlayerSettings, StreamAction
from harness.streams.readback import read_topic, topic_message_count

T0 = 1_600_000_000_000_000_000


def test_publisher_counts_deliveries_per_trigger_and_sets_headers(donki_kafka, donki_topics):
    topic = donki_topics.create("donki_sample_env", partitions=2)
    generator = ScalarGenerator(seed=1, rate_hz=10.0, per_trigger=3)
    publisher = StreamPublisher(donki_kafka.client_config, topic, "a-scalar")
    sent = {}
    for trigger in (1, 2, 3):
        messages = generator.messages(trigger, T0 + trigger * 100_000_000)
        sent[trigger] = messages
        publisher.publish(trigger, messages)
    tallies = [publisher.wait_delivered(t, 30.0) for t in (1, 2, 3)]
    assert [(t.sent, t.delivered, t.failed) for t in tallies] == [(3, 3, 0)] * 3
    assert publisher.total().delivered == 9 and publisher.total().bytes == sum(
        len(m.payload) for ms in sent.values() for m in ms)
    publisher.close()

    records = read_topic(donki_kafka.client_config, topic, 9)
    assert len({r.partition for r in records}) == 1  # one source, one key, one partition: order kept
    records.sort(key=lambda r: r.offset)
    expected = [m for t in (1, 2, 3) for m in sent[t]]
    for seq, (record, message) in enumerate(zip(records, expected, strict=True)):
        headers = record.donki
        assert (headers.stream, headers.seq) == ("a-scalar", seq)
        assert headers.trigger == 1 + seq // 3
        assert headers.crc32 == crc32_hex(record.value) == f"{zlib.crc32(message.payload):08x}"
        assert record.value == message.payload
        assert record.timestamp_ms == message.timestamp_ns // 1_000_000  # the data's own time
        assert record.key == b"sample_env:temperature"
    assert topic_message_count(donki_kafka.client_config, topic) == 9


def test_delivery_failure_is_counted_not_hidden(donki_kafka, donki_topics):
    topic = donki_topics.create("donki_small", config={"max.message.bytes": "1000"})
    publisher = StreamPublisher(donki_kafka.client_config, topic, "b-image")
    from harness.streams import ImageGenerator

    publisher.publish(1, ImageGenerator(seed=1, rate_hz=1.0, shape=(64, 64)).messages(1, T0))
    tally = publisher.wait_delivered(1, 30.0)
    publisher.close()
    assert (tally.sent, tally.delivered, tally.failed) == (1, 0, 1)
    assert "MSG_SIZE_TOO_LARGE" in tally.first_error or "too large" in tally.first_error.lower()


def action(kind, params, topic, bootstrap, name=None, seed=5, player=None):
    context = {"name": name or kind, "bootstrap": bootstrap, "topic": topic, "seed": seed}
    return get_stream_kind(kind).factory({**params, PLAYER_KEY: player or {"rate_hz": 14.0}}, context)


def test_stream_action_reports_results_and_acks_after_delivery(donki_kafka, donki_topics):
    topic = donki_topics.create("donki_detector")
    player = action("ess-events", {"events_per_pulse": 20_000, "batching": "efu", "max_events": 5000}, topic,
                    donki_kafka.bootstrap_servers,
                    player={"rate_hz": 14.0, "base_rate_hz": 14.0, "clock": "nominal", "start_ns": T0})
    assert isinstance(player, StreamAction)
    player.setup()
    sent = player(1)
    assert sent.messages == 4 and sent.bytes > 20_000 * 8
    done = player.wait_delivered(1, 30.0)
    assert (done.messages, done.delivered, done.failed) == (4, 4, 0)
    assert done.counts() == {"messages": 4, "bytes": sent.bytes, "failed": 0, "delivered": 4}
    player(2)
    player.teardown()
    records = sorted(read_topic(donki_kafka.client_config, topic, 8), key=lambda r: r.offset)
    events = [deserialise_ev44(r.value) for r in records]
    assert [e.message_id for e in events] == list(range(8))
    assert [int(e.reference_time[0]) for e in events] == [T0] * 4 + [T0 + 71_428_571] * 4  # nominal clock
    assert [r.donki.trigger for r in records] == [1] * 4 + [2] * 4


def test_run_control_sends_the_stop_with_the_last_trigger_of_a_known_run(donki_kafka, donki_topics):
    topic = donki_topics.create("donki_control")
    player = action("run-control", {"run_name": "r8", "stop_margin_s": 0.25}, topic, donki_kafka.bootstrap_servers,
                    name="control",
                    player={"rate_hz": 10.0, "base_rate_hz": 10.0, "clock": "nominal", "start_ns": T0,
                            "last_trigger": 3})
    player.setup()
    counts = [player(n).messages for n in (1, 2, 3)]
    player.wait_delivered(3, 30.0)
    assert counts == [1, 0, 1]  # the stop is part of trigger 3's ack
    player.teardown()  # sends nothing more
    start, stop = sorted(read_topic(donki_kafka.client_config, topic, 2), key=lambda r: r.offset)
    assert (start.schema, stop.schema, stop.donki.trigger) == ("pl72", "6s4t", 3)
    # stop_margin_s after trigger 3, so the later levels' last data (spread over their period) lie inside the run
    assert deserialise_6s4t(stop.value).stop_time == (T0 + 2 * 100_000_000 + 250_000_000) // 1_000_000
    assert topic_message_count(donki_kafka.client_config, topic) == 2


def test_run_control_sends_start_on_first_trigger_and_stop_at_teardown(donki_kafka, donki_topics):
    topic = donki_topics.create("donki_control")
    player = action("run-control", {"run_name": "r7"}, topic, donki_kafka.bootstrap_servers, name="control")
    player.setup()
    first = player(1)
    player.wait_delivered(1, 30.0)
    later = player(2)
    assert (first.messages, later.messages) == (1, 0)
    assert topic_message_count(donki_kafka.client_config, topic) == 1
    player.teardown()
    start, stop = sorted(read_topic(donki_kafka.client_config, topic, 2), key=lambda r: r.offset)
    run_start, run_stop = deserialise_pl72(start.value), deserialise_6s4t(stop.value)
    assert run_start.run_name == run_stop.run_name == "r7"
    assert run_start.job_id == run_stop.job_id
    assert run_start.broker == donki_kafka.bootstrap_servers
    assert run_stop.stop_time >= run_start.start_time
    assert (start.donki.seq, stop.donki.seq) == (0, 1) and stop.donki.trigger == 2


def test_action_factory_validates_params_again_in_the_player(donki_kafka):
    with pytest.raises(ScenarioError, match="events_per_pulse"):
        action("ess-events", {"events_per_pulse": -1}, "t", donki_kafka.bootstrap_servers)
    with pytest.raises(ScenarioError, match="clock"):
        PlayerSettings.from_params({PLAYER_KEY: {"clock": "sundial"}})


def test_send_mode_acks_report_each_confirmation_once(donki_kafka, donki_topics):
    topic = donki_topics.create("donki_sample_env")
    player = action("a-scalar", {"per_trigger": 5}, topic, donki_kafka.bootstrap_servers,
                    player={"rate_hz": 10.0, "ack": "send"})
    player.setup()
    results = [player(t) for t in range(1, 5)]
    player.publisher.flush(30.0)
    results.append(player(5))  # its own messages are not confirmed yet, the earlier ones are
    player.teardown()
    assert [r.messages for r in results] == [5] * 5
    confirmed = sum(r.delivered for r in results)
    assert 20 <= confirmed <= 25 and all(r.failed == 0 for r in results)
    assert player.publisher.take_reports() == (25 - confirmed, 0, "")  # the rest arrived at teardown
    assert topic_message_count(donki_kafka.client_config, topic) == 25


def test_send_mode_keeps_a_bounded_number_of_triggers_in_flight(donki_kafka, donki_topics):
    topic = donki_topics.create("donki_detector")
    player = action("ess-events", {"events_per_pulse": 200_000}, topic, donki_kafka.bootstrap_servers,
                    player={"rate_hz": 14.0, "ack": "send"})
    player.setup()
    in_flight = []
    for trigger in range(1, 9):
        player(trigger)  # waits for room first, then hands the pulse over
        in_flight.append(len([t for t in range(1, trigger + 1) if player.publisher.tally(t).pending]))
    player.teardown()
    assert max(in_flight) <= MAX_TRIGGERS_IN_FLIGHT
    assert player.publisher.total().delivered == 8 and topic_message_count(donki_kafka.client_config, topic) == 8


def test_wait_in_flight_returns_once_the_oldest_are_confirmed(donki_kafka, donki_topics):
    topic = donki_topics.create("donki_sample_env")
    generator = ScalarGenerator(seed=1, rate_hz=10.0, per_trigger=50)
    publisher = StreamPublisher(donki_kafka.client_config, topic, "a-scalar")
    for trigger in (1, 2, 3, 4):
        publisher.publish(trigger, generator.messages(trigger, T0 + trigger * 100_000_000))
    assert publisher.wait_in_flight(2, 30.0) < 2
    assert publisher.wait_in_flight(1, 30.0) == 0 and publisher.total().delivered == 200
    publisher.close()
