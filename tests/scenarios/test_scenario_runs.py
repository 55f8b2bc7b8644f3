"""Every built-in scenario runs end to end: director, player processes, real Kafka, decoded back."""

from __future__ import annotations

import collections
import itertools
import json
import subprocess
import sys

import pytest
from streaming_data_types import DESERIALISERS

from harness.headers import crc32_hex
from harness.orchestra import EventKind, check_journal
from harness.orchestra.ack import AckAfter
from harness.runs import RunRequest, RunSummary, SizedScenario, run
from harness.scenarios import builtin_names, load_scenario, loads_scenario
from harness.streams.readback import read_topic

pytestmark = pytest.mark.timeout(300)


def run_scenario(scenario, broker, **options) -> RunSummary:
    """What the players of an unrecorded run of ``scenario`` did."""
    return run(RunRequest(SizedScenario.as_given(scenario), broker, **options)).summary


def read_back(broker, result):
    """Every message of the run's topics, grouped by topic."""
    by_topic = {}
    for topic in result.topics.values():
        players = [s for s in result.streams if s.topic == topic]
        expected = sum(s.in_kafka if s.in_kafka is not None else s.delivered for s in players)
        by_topic[topic] = read_topic(broker.client_config, topic, expected, timeout_s=60)
    return by_topic


def check_stream_contents(result, by_topic):
    per_stream = collections.defaultdict(list)
    for records in by_topic.values():
        for record in records:
            per_stream[record.donki.stream].append(record)
    for summary in result.streams:
        records = sorted(per_stream[summary.player], key=lambda r: r.donki.seq)
        assert [r.donki.seq for r in records] == list(range(len(records))), summary.player  # no gaps
        for record in records:
            assert record.schema in summary.schemas
            assert record.donki.crc32 == crc32_hex(record.value)
            DESERIALISERS[record.schema](record.value)  # a real ESS consumer can decode it
        player = result.scenario.player(summary.player)
        due = {t for t in range(1, result.scenario.triggers + 1) if (t - 1) % player.divisor == 0}
        assert {r.donki.trigger for r in records} <= due


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_scenario_runs_end_to_end(name, donki_kafka, donki_topics):
    scenario = load_scenario(name).ci()
    result = run_scenario(scenario, donki_kafka, namespace=donki_topics)
    assert result.complete, result.all_problems()
    assert result.outcome == "completed"
    check_journal(result.journal)  # raises on a violated invariant
    for summary in result.streams:
        assert summary.acks == summary.triggers_due > 0
        assert summary.failed == 0
        if scenario.player(summary.player).ack is AckAfter.DELIVERY:
            assert summary.delivered == summary.messages
        else:  # acks after send carry the reports that arrived by then; the rest come at teardown
            assert summary.delivered <= summary.messages
        assert summary.achieved_rate_hz is None or summary.achieved_rate_hz > 0
        assert summary.messages > 0 and summary.in_kafka == summary.messages  # run control: start and stop
    check_stream_contents(result, read_back(donki_kafka, result))
    assert set(result.to_dict()["streams"]) == {p.name for p in scenario.players}


def test_run_control_frames_the_data(donki_kafka, donki_topics):
    result = run_scenario(load_scenario("ess-pulse").ci().with_length(triggers=3), donki_kafka,
                          namespace=donki_topics)
    by_topic = read_back(donki_kafka, result)
    start, stop = sorted(by_topic[result.topics["donki_control"]], key=lambda r: r.offset)
    pulses = by_topic[result.topics["donki_detector"]]
    assert (start.schema, stop.schema) == ("pl72", "6s4t")
    assert start.timestamp_ms <= min(p.timestamp_ms for p in pulses)
    assert stop.timestamp_ms >= max(p.timestamp_ms for p in pulses)
    assert DESERIALISERS["pl72"](start.value).job_id == DESERIALISERS["6s4t"](stop.value).job_id


def test_send_acks_and_nominal_clock(donki_kafka, donki_topics):
    text = """
    [scenario]
    name = "nominal"
    rate = 20
    triggers = 6
    [[players]]
    stream = "a-scalar"
    topic = "donki_env"
    ack = "send"
    clock = "nominal"
    divisor = 2
    """
    result = run_scenario(loads_scenario(text, "nominal.toml"), donki_kafka, namespace=donki_topics)
    (summary,) = result.streams
    assert result.complete and summary.acks == summary.triggers_due == 3
    records = read_back(donki_kafka, result)[summary.topic]
    stamps = sorted(r.timestamp_ms for r in records)
    assert [b - a for a, b in itertools.pairwise(stamps)] == [100, 100]  # triggers 1, 3, 5 of a 20 Hz clock


def test_lost_messages_fail_the_run_and_are_reported(donki_kafka, donki_topics):
    # the image topic exists already and refuses messages over 1 kB: every frame fails delivery
    donki_topics.create("donki_camera", config={"max.message.bytes": "1000"})
    scenario = load_scenario("b-image").with_length(triggers=3)
    result = run_scenario(scenario, donki_kafka, topic_prefix=donki_topics.prefix)
    (summary,) = result.streams
    assert not result.complete and not result.ok
    assert summary.failed == 3 and summary.delivered == 0 and summary.in_kafka == 0
    assert any("not delivered" in p for p in summary.problems)


class _ExplodesAt:
    def __init__(self, at: int) -> None:
        self.at = at

    def __call__(self, trigger: int):
        if trigger == self.at:
            raise RuntimeError(f"detector readout failed at trigger {trigger}")
        return None


@pytest.fixture
def exploding_kind():
    from harness.kinds import Param, StreamKind, register_stream_kind, unregister_stream_kind

    kind = StreamKind("test-explodes", "raises at one trigger", (Param("at", int, 2),),
                      lambda params, context: _ExplodesAt(params["at"]))
    register_stream_kind(kind)
    yield kind.name
    unregister_stream_kind(kind.name)


@pytest.mark.parametrize("policy", ["skip", "fail"])
def test_a_failing_player_is_journaled_and_fails_the_run(policy, exploding_kind, donki_kafka, donki_topics):
    text = f"""
    [scenario]
    name = "explodes"
    rate = 20
    triggers = 4
    ack = {{ policy = "{policy}", timeout = 5.0, after = "send" }}
    [[players]]
    name = "bad"
    stream = "{exploding_kind}"
    topic = "donki_nothing"
    [[players]]
    name = "good"
    stream = "a-scalar"
    topic = "donki_env"
    ack = "delivery"
    """
    result = run_scenario(loads_scenario(text, "explodes.toml"), donki_kafka, namespace=donki_topics, mode="thread")
    assert not result.complete and not result.ok
    assert result.stream("bad").nacks == 1
    assert any("detector readout failed at trigger 2" in p for p in result.problems)
    nack = [e for e in result.journal if e.kind is EventKind.NACK]
    assert [(e.player, e.trigger) for e in nack] == [("bad", 2)]
    if policy == "fail":
        assert result.outcome == "aborted" and result.stream("good").acks < 4
    else:
        assert result.outcome == "completed" and result.stream("good").acks == 4


def test_producer_settings_reach_the_player(donki_kafka, donki_topics):
    text = """
    [scenario]
    name = "tuned"
    rate = 10
    triggers = 2
    [[players]]
    stream = "b-image"
    topic = "donki_camera"
    producer = { "compression.type" = "lz4" }
    params = { shape = [64, 64], background = 0.0, spot_amplitude = 0.0 }
    """
    result = run_scenario(loads_scenario(text, "tuned.toml"), donki_kafka, namespace=donki_topics)
    assert result.complete, result.all_problems()
    records = read_back(donki_kafka, result)[result.streams[0].topic]
    assert len(records) == 2 and all(DESERIALISERS["ad00"](r.value).data.shape == (64, 64) for r in records)


def test_donki_run_cli_writes_json_and_sets_the_exit_status(donki_kafka, tmp_path):
    out = tmp_path / "run.json"
    command = [sys.executable, "-m", "harness", "run", "e-mixed", "--ci", "--bootstrap",
               donki_kafka.bootstrap_servers, "--json", str(out), "--journal", "--ignore-rates"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "e-mixed" in done.stdout and "run e-mixed:" in done.stdout
    data = json.loads(out.read_text())
    assert data["scenario"] == "e-mixed" and data["complete"] is True
    stream = data["streams"]["e-mixed"]
    assert {"messages", "bytes", "nominal_rate_hz", "achieved_rate_hz", "acks", "delivered", "in_kafka"} <= set(stream)
    assert stream["messages"] == 40 and stream["acks"] == 10 and stream["nominal_rate_hz"] == 10.0
    assert list(data["topics"]) == ["donki_mixed"] and data["journal"]
    bad = subprocess.run([sys.executable, "-m", "harness", "run", "e-mixed", "--triggers", "-3", "--bootstrap",
                          donki_kafka.bootstrap_servers], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--triggers: -3: expected a whole number >= 1" in bad.stderr


STALLED = """
[scenario]
name = "stalled"
rate = 20
triggers = 40
catch_up = {catch_up}

[scenario.ack]
timeout = 5.0

[[players]]
stream = "a-scalar"
topic = "donki_env"

[players.faults]
stall_trigger = 10
stall_s = 0.3
"""


def test_catch_up_makes_up_a_stall_and_keeps_the_rate_where_the_default_loses_it(donki_kafka, donki_topics):
    rates = {}
    for catch_up in (1, 10):
        scenario = loads_scenario(STALLED.format(catch_up=catch_up), f"stalled-{catch_up}.toml")
        assert scenario.catch_up == catch_up
        result = run_scenario(scenario, donki_kafka, topic_prefix=f"{donki_topics.prefix}{catch_up}")
        (summary,) = result.streams
        assert result.complete and summary.acks == 40, result.all_problems()
        rates[catch_up] = summary.achieved_rate_hz
    # a 0.3 s stall (6 periods) in a 1.95 s schedule: made up with catch_up 10, lost with the default
    assert abs(rates[10] - 20) <= 0.2, rates
    assert rates[1] < 18.5, rates
