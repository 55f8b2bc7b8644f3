"""The run summary's rate verdict agrees with the rates check: run control is unrated, jitter is allowed for."""

from types import SimpleNamespace

from harness.checks.config import RateOptions
from harness.orchestra.journal import EventKind, Journal, JournalEvent
from harness.runs.summary import summarise_player
from harness.scenarios import PlayerSpec
from harness.scenarios.players import Expectations

SCENARIO = SimpleNamespace(rate_hz=14.0, triggers=5)


def journal_of(player, sent_s, messages):
    events = []
    for trigger, (mono, count) in enumerate(zip(sent_s, messages, strict=True), 1):
        events.append(JournalEvent(len(events), EventKind.TRIGGER_SENT, mono, mono, trigger=trigger, player=player))
        events.append(JournalEvent(len(events), EventKind.ACK, mono, mono + 0.01, trigger=trigger, player=player,
                                   latency_s=0.01, counts={"messages": count, "delivered": count}))
    return Journal(events)


def summary(name, sent_s, messages, tolerance=0.05, rates=None):
    spec = PlayerSpec(name, "ess-events", "t", expect=Expectations(rate_tolerance=tolerance))
    return summarise_player(spec, SCENARIO, "t", ("ev44",), journal_of(name, sent_s, messages), None, rates=rates)


def test_run_control_with_a_start_and_a_stop_is_never_slow():
    sent = [0.0, 0.3, 0.6, 0.9, 1.2]  # 3.3 Hz against 14
    control = summary("run-control", sent, [1, 0, 0, 0, 1])
    assert control.rate_problem == "" and control.ok


def test_a_steadily_slow_stream_is_slow_and_the_message_says_by_how_much():
    slow = summary("ess-events", [i / 7 for i in range(5)], [1] * 5)
    assert slow.rate_problem.startswith("achieved 7 Hz (robust slope), nominal 14 Hz (-50.0%, tolerance +-5%)")
    assert not slow.ok and slow.complete


def test_jitter_at_five_triggers_is_not_slow_and_the_config_tolerance_applies():
    sent, t = [0.0], 0.0
    for interval in (0.096, 0.091, 0.027, 0.126):
        t += interval
        sent.append(t)
    assert summary("ess-events", sent, [1] * 5).rate_problem == ""
    assert summary("ess-events", sent, [1] * 5, rates=RateOptions(confidence=0)).rate_problem
    assert not summary("ess-events", sent, [1] * 5, rates=RateOptions(confidence=0, tolerance=0.3)).rate_problem


def test_a_player_acking_at_send_shows_its_confirmations_as_counted_by_ack_not_as_a_loss():
    from harness.orchestra.ack import AckAfter

    def acked(ack):
        events = [JournalEvent(0, EventKind.TRIGGER_SENT, 0.0, 0.0, trigger=1, player="bank"),
                  JournalEvent(1, EventKind.ACK, 0.0, 0.01, trigger=1, player="bank", latency_s=0.01,
                               counts={"messages": 14, "delivered": 13})]
        spec = PlayerSpec("bank", "ess-events", "t", ack=ack)
        return summarise_player(spec, SimpleNamespace(rate_hz=14.0, triggers=1), "t", ("ev44",), Journal(events), 14)

    at_send = acked(AckAfter.SEND)
    assert at_send.delivered_at_ack == "13 by ack" and at_send.to_dict()["ack_after"] == "send"
    assert not at_send.problems  # the topic holds all 14: nothing is lost
    at_delivery = acked(AckAfter.DELIVERY)
    assert at_delivery.delivered_at_ack == "13"
    assert at_delivery.problems == ("only 13 of 14 messages confirmed by Kafka at ack time",)


def test_a_players_events_grouped_in_one_pass_give_the_same_summary_as_the_whole_journal():
    from harness.runs.summary import events_by_player

    journal = Journal([*journal_of("a", [0.0, 0.1, 0.2], [1, 1, 1]), *journal_of("b", [0.0, 0.2, 0.4], [2, 0, 2])])
    grouped = events_by_player(journal)
    assert sorted(grouped) == ["a", "b"] and len(grouped["a"]) == 6
    for name in ("a", "b"):
        spec = PlayerSpec(name, "ess-events", "t")
        whole = summarise_player(spec, SCENARIO, "t", ("ev44",), journal, None)
        assert summarise_player(spec, SCENARIO, "t", ("ev44",), grouped[name], None) == whole
        assert whole.acks == 3
