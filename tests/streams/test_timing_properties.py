"""The timing invariants as properties of generated scenarios, with the players' own actions.

Every player of a hypothesis-generated scenario (plus a run-control player at any level)
runs its real action; only Kafka is replaced by a list, and the wall clock by arrival
times that hypothesis draws: triggers late, levels slow, a trigger arriving before the
previous one's spread-out messages ran out. Whatever the draw, per source the data times
never go backwards, the Kafka timestamp is the data time in ms, and every data message
lies in [run start, run stop]. The same checks then run on every real run
(tests/plugin/test_generated_scenarios.py).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.checks.timing import check_run_window, data_time_findings
from harness.orchestra.plan import is_due
from harness.records import TIMESTAMP_CREATE_TIME, KafkaRecord
from harness.scenarios import Scenario
from harness.streams.actions import PlayerSettings, RunControlAction, StreamAction
from harness.streams.generators import make_generator
from harness.streams.producer import TriggerTally
from pytest_donki.strategies import scenarios

T0 = 1_700_000_000_000_000_000
MAX_LEVEL_DELAY_S = 0.2  # a level slower than this is a run the director reports, not a timing property


class ListPublisher:
    """Kafka replaced by a list: what was published, in publish order."""

    def __init__(self, topic: str) -> None:
        self.topic, self.sent = topic, []

    def publish(self, trigger, messages):
        self.sent.extend(messages)
        return TriggerTally(trigger, sent=len(messages), delivered=len(messages))


def _action(player, scenario: Scenario, triggers: int):
    settings_ = PlayerSettings(player.rate_hz(scenario.rate_hz), scenario.rate_hz, player.clock, T0,
                               last_trigger=max(t for t in range(1, triggers + 1) if is_due(t, player.divisor)),
                               longest_period_s=max(p.divisor for p in scenario.players) / scenario.rate_hz)
    generator = make_generator(player.stream, dict(player.params), seed=player.seed, rate_hz=settings_.rate_hz)
    kind = RunControlAction if player.stream == "run-control" else StreamAction
    return kind(generator, ListPublisher(player.topic), settings_)


@st.composite
def runs(draw):
    base = draw(scenarios(max_players=3, max_triggers=12, kinds=[
        "a-scalar", "b-image", "c-spectrum", "d-array3d", "e-mixed", "ess-events"]))
    data = base.to_dict()
    control = {"name": "control", "stream": "run-control", "topic": "ctl_control",
               "priority": draw(st.integers(0, 3)), "clock": data["players"][0].get("clock", "wall")}
    scenario = Scenario.from_dict({**data, "players": data["players"] + [control]}, "<hypothesis>")
    levels = sorted({p.priority for p in scenario.players})
    delays = draw(st.lists(st.floats(0, MAX_LEVEL_DELAY_S), min_size=scenario.triggers * len(levels),
                           max_size=scenario.triggers * len(levels)))
    lateness = draw(st.lists(st.floats(0, 1.5), min_size=scenario.triggers, max_size=scenario.triggers))
    return scenario, levels, delays, lateness


def _play(scenario, levels, delays, lateness):
    actions = {p.name: _action(p, scenario, scenario.triggers) for p in scenario.players}
    period_ns = 1e9 / scenario.rate_hz
    clock_ns = float(T0)
    for n in range(1, scenario.triggers + 1):
        # a trigger goes out on schedule or, when the director is behind, as soon as the last one ended
        clock_ns = max(clock_ns, T0 + (n - 1) * period_ns + lateness[n - 1] * period_ns)
        for i, level in enumerate(levels):
            clock_ns += delays[(n - 1) * len(levels) + i] * 1e9
            for player in scenario.players:
                if player.priority == level and is_due(n, player.divisor):
                    action = actions[player.name]
                    if player.clock == "wall":
                        action.data_time_ns = lambda trigger, at=int(clock_ns): at
                    action(n)
    records = []
    for player in scenario.players:
        for offset, m in enumerate(actions[player.name].publisher.sent):
            records.append(KafkaRecord(f"{player.name}.{player.topic}", 0, offset, m.timestamp_ms,
                                       TIMESTAMP_CREATE_TIME, m.key, m.payload))
    return records


@settings(max_examples=40, deadline=None)
@given(runs())
def test_every_generated_run_keeps_its_timing_invariants(run):
    scenario = run[0]
    records = _play(*run)
    findings, timed = data_time_findings(sorted(records, key=lambda r: (r.topic, r.partition, r.offset)))
    assert not findings, f"{scenario.to_dict()}\n" + "\n".join(f.message for f in findings[:5])
    window = check_run_window(records)
    assert window.metrics["runs"], "the run control sent no run start"
    assert window.passed, f"{scenario.to_dict()}\n{window.report()}"
    assert window.checked == timed - 2  # every data message was checked (the start and stop are not data)
