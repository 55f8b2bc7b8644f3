"""The scheduler's logic without sockets: literal inputs, literal expected sends and journal lines."""

import pytest

from harness.errors import ConfigError
from harness.orchestra import EventKind, Journal, RunPlan, Seat, TriggerScheduler, check_journal, is_due
from harness.orchestra.schedule import RunState


class Script:
    """A scheduler over a fixed roster, a manual clock and a journal to read back."""

    def __init__(self, seats, **plan):
        self.roster = list(seats)
        self.journal = Journal()
        self.s = TriggerScheduler(RunPlan(**plan), self.journal, lambda: tuple(self.roster), 0.0)

    def lines(self, *kinds):
        wanted = kinds or (EventKind.TRIGGER_SENT, EventKind.ACK, EventKind.NACK, EventKind.MISSED,
                           EventKind.TIMEOUT, EventKind.RESENT, EventKind.LEVEL_DONE)
        return [(e.kind.value, e.trigger, e.level, e.player, e.attempt) for e in self.journal if e.kind in wanted]

    def check(self):
        check_journal(self.journal)


A0, B0, C1, D2 = Seat("a", 0), Seat("b", 0), Seat("c", 1), Seat("d", 2)


def test_levels_run_in_ascending_order_and_a_level_goes_out_at_once():
    t = Script([D2, C1, A0, B0], count=1)
    assert t.s.begin(0.0) == [("a", 1, 1), ("b", 1, 1)]
    assert t.s.on_ack("b", 1, 1, {}, 0.01) == []  # a still owes its ack: level 1 waits
    assert t.s.on_ack("a", 1, 1, {"messages": 2}, 0.02) == [("c", 1, 1)]
    assert t.s.on_ack("c", 1, 1, {}, 0.03) == [("d", 1, 1)]
    assert t.s.on_ack("d", 1, 1, {}, 0.04) == []
    assert t.lines() == [
        ("trigger_sent", 1, 0, "a", 1), ("trigger_sent", 1, 0, "b", 1),
        ("ack", 1, 0, "b", 1), ("ack", 1, 0, "a", 1), ("level_done", 1, 0, None, None),
        ("trigger_sent", 1, 1, "c", 1), ("ack", 1, 1, "c", 1), ("level_done", 1, 1, None, None),
        ("trigger_sent", 1, 2, "d", 1), ("ack", 1, 2, "d", 1), ("level_done", 1, 2, None, None),
    ]
    assert t.s.state is RunState.COMPLETED
    ack_a = t.journal.of_kind(EventKind.ACK)[1]
    assert ack_a.counts == {"messages": 2} and ack_a.latency_s == pytest.approx(0.02)
    t.check()


def test_divisors_make_players_due_on_trigger_one_and_every_mth_after():
    t = Script([Seat("every", 0, 1), Seat("second", 0, 2), Seat("third", 1, 3)], count=7)
    sent = []
    out = t.s.begin(0.0)
    now = 0.0
    while out:
        sent.extend(out)
        now += 0.001
        pending = list(out)
        out = []
        for s in pending:
            out.extend(t.s.on_ack(s.player, s.trigger, 1, {}, now))
    assert [(s.trigger, s.player) for s in sent] == [
        (1, "every"), (1, "second"), (1, "third"), (2, "every"), (3, "every"), (3, "second"),
        (4, "every"), (4, "third"), (5, "every"), (5, "second"), (6, "every"), (7, "every"), (7, "second"),
        (7, "third"),
    ]
    assert [is_due(n, 3) for n in range(1, 8)] == [True, False, False, True, False, False, True]
    t.check()


def test_disabled_players_are_never_triggered():
    t = Script([A0, Seat("off", -1)], count=2)
    assert t.s.begin(0.0) == [("a", 1, 1)]
    assert t.s.on_ack("a", 1, 1, {}, 0.1) == [("a", 2, 1)]


def test_skip_policy_records_the_miss_and_goes_on():
    t = Script([A0, B0, C1], count=1, ack_timeout_s=0.5, policy="skip")
    t.s.begin(0.0)
    t.s.on_ack("a", 1, 1, {}, 0.1)
    assert t.s.next_wakeup() == pytest.approx(0.5)
    assert t.s.on_time(0.49) == []
    assert t.s.on_time(0.5) == [("c", 1, 1)]
    assert t.lines(EventKind.TIMEOUT, EventKind.MISSED) == [("timeout", 1, 0, "b", 1), ("missed", 1, 0, "b", 1)]
    t.s.on_ack("c", 1, 1, {}, 0.6)
    assert t.s.result().missed == 1 and t.s.result().acked == 2 and t.s.state is RunState.COMPLETED
    t.check()


def test_fail_policy_aborts_and_gives_up_what_is_still_owed():
    t = Script([A0, B0, C1], count=5, ack_timeout_s=0.5, policy="fail")
    t.s.begin(0.0)
    assert t.s.on_time(0.5) == []
    assert t.s.state is RunState.ABORTED
    assert "did not ack trigger 1" in t.s.reason
    assert t.lines(EventKind.TIMEOUT, EventKind.MISSED) == [
        ("timeout", 1, 0, "a", 1), ("missed", 1, 0, "a", 1), ("missed", 1, 0, "b", 1)]
    assert t.journal.events[-1].kind is EventKind.RUN_ABORTED
    assert not t.journal.of_kind(EventKind.TRIGGER_SENT)[2:]  # level 1 never started
    t.check()


def test_resend_policy_resends_then_gives_up():
    t = Script([A0], count=2, ack_timeout_s=1.0, policy="resend", resends=2)
    t.s.begin(0.0)
    assert t.s.on_time(1.0) == [("a", 1, 2)]
    assert t.s.on_ack("a", 1, 2, {}, 1.5) == [("a", 2, 1)]  # the resent attempt was answered
    assert t.journal.of_kind(EventKind.ACK)[0].latency_s == pytest.approx(1.5)  # from the first send
    assert t.s.on_time(3.5) == [("a", 2, 2)]
    assert t.s.on_time(4.5) == [("a", 2, 3)]
    assert t.s.on_time(5.5) == []
    assert t.lines(EventKind.RESENT, EventKind.MISSED, EventKind.ACK) == [
        ("resent", 1, 0, "a", 2), ("ack", 1, 0, "a", 2), ("resent", 2, 0, "a", 2), ("resent", 2, 0, "a", 3),
        ("missed", 2, 0, "a", 3)]
    assert t.s.state is RunState.COMPLETED
    t.check()


def test_nack_resolves_the_pair_under_skip_and_aborts_under_fail():
    t = Script([A0, C1], count=1, policy="skip")
    t.s.begin(0.0)
    assert t.s.on_nack("a", 1, 1, {}, "Traceback: boom", 0.1) == [("c", 1, 1)]
    assert t.journal.of_kind(EventKind.NACK)[0].detail == "Traceback: boom"
    t.check()
    t = Script([A0, C1], count=1, policy="fail")
    t.s.begin(0.0)
    assert t.s.on_nack("a", 1, 1, {}, "Traceback: boom", 0.1) == []
    assert t.s.state is RunState.ABORTED and "nack" in t.s.reason
    t.check()


def test_stray_answers_are_classified_and_change_nothing():
    t = Script([A0, B0], count=3, ack_timeout_s=0.5)
    t.s.begin(0.0)
    t.s.on_ack("a", 1, 1, {}, 0.1)
    assert t.s.on_ack("a", 1, 1, {}, 0.2) == []  # acked twice
    assert t.s.on_ack("a", 5, 1, {}, 0.2) == []  # a trigger never sent
    assert t.s.on_ack("b", 1, 4, {}, 0.2) == []  # an attempt never sent
    t.s.on_time(0.5)  # b times out, trigger 2 goes out
    assert t.s.on_ack("b", 1, 1, {}, 0.6) == []  # too late
    assert t.lines(EventKind.DUPLICATE_ACK, EventKind.WRONG_ACK, EventKind.LATE_ACK) == [
        ("duplicate_ack", 1, 0, "a", 1), ("wrong_ack", 5, None, "a", 1), ("wrong_ack", 1, None, "b", 4),
        ("late_ack", 1, 0, "b", 1)]
    assert t.s.trigger_in_progress == 2
    t.check()


def test_a_player_gone_mid_level_is_missed_and_the_level_completes():
    t = Script([A0, B0, C1], count=1)
    t.s.begin(0.0)
    t.s.on_ack("a", 1, 1, {}, 0.1)
    t.roster.remove(B0)
    assert t.s.on_player_gone("b", "heartbeats stopped", 0.2) == [("c", 1, 1)]
    missed = t.journal.of_kind(EventKind.MISSED)
    assert [(m.player, m.detail) for m in missed] == [("b", "player gone: heartbeats stopped")]
    t.check()


def test_a_player_that_joins_takes_part_from_the_next_trigger():
    t = Script([A0], count=2)
    t.s.begin(0.0)
    t.roster.append(B0)
    assert t.s.on_ack("a", 1, 1, {}, 0.1) == [("a", 2, 1), ("b", 2, 1)]


def test_rate_paces_triggers_without_drift_and_without_bursts_after_a_stall():
    t = Script([A0], count=None, rate_hz=10)
    assert t.s.begin(0.0) == [("a", 1, 1)]
    assert t.s.on_ack("a", 1, 1, {}, 0.01) == []
    assert t.s.next_wakeup() == pytest.approx(0.1)
    assert t.s.on_time(0.1) == [("a", 2, 1)]
    t.s.on_ack("a", 2, 1, {}, 0.15)
    assert t.s.next_wakeup() == pytest.approx(0.2)  # scheduled time, not ack + period
    assert t.s.on_time(0.2) == [("a", 3, 1)]
    assert t.s.on_ack("a", 3, 1, {}, 0.75) == [("a", 4, 1)]  # after a stall of several periods: at once
    t.s.on_ack("a", 4, 1, {}, 0.76)
    assert t.s.next_wakeup() == pytest.approx(0.85)  # re-based on the late start: no catch-up burst


def test_catch_up_makes_up_a_stall_shorter_than_its_periods_and_keeps_the_rate():
    t = Script([A0], count=None, rate_hz=10, catch_up=5)
    t.s.begin(0.0)
    t.s.on_ack("a", 1, 1, {}, 0.01)
    assert t.s.on_time(0.1) == [("a", 2, 1)]
    assert t.s.on_ack("a", 2, 1, {}, 0.42) == [("a", 3, 1)]  # 3 was due at 0.2: 2.2 periods late, sent at once
    assert t.s.on_ack("a", 3, 1, {}, 0.43) == [("a", 4, 1)]  # 4 was due at 0.3: still behind, at once
    assert t.s.on_ack("a", 4, 1, {}, 0.44) == [("a", 5, 1)]  # 5 was due at 0.4
    assert t.s.on_ack("a", 5, 1, {}, 0.45) == []  # 6 is due at 0.5: the schedule is met again
    assert t.s.next_wakeup() == pytest.approx(0.5)
    assert t.s.on_time(0.5) == [("a", 6, 1)]
    assert t.s.on_ack("a", 6, 1, {}, 1.3) == [("a", 7, 1)]  # 7 was due at 0.6: 7 periods late, the schedule moves
    t.s.on_ack("a", 7, 1, {}, 1.31)
    assert t.s.next_wakeup() == pytest.approx(1.4)
    t.check()


@pytest.mark.parametrize("catch_up", [0, -1, 1001, 2.5, True])
def test_catch_up_out_of_range_is_refused(catch_up):
    with pytest.raises(ConfigError, match="catch_up"):
        RunPlan(rate_hz=10, catch_up=catch_up)


def test_pause_takes_effect_after_the_trigger_in_progress_and_resume_goes_on():
    t = Script([A0], count=None)
    t.s.begin(0.0)
    t.s.pause(0.01)
    assert t.s.state is RunState.RUNNING  # trigger 1 still owes its ack
    assert t.s.on_ack("a", 1, 1, {}, 0.02) == []
    assert t.s.state is RunState.PAUSED and t.s.next_wakeup() is None
    assert t.s.resume(5.0) == [("a", 2, 1)]
    kinds = [e.kind for e in t.journal if e.kind in (EventKind.RUN_PAUSED, EventKind.RUN_RESUMED)]
    assert kinds == [EventKind.RUN_PAUSED, EventKind.RUN_RESUMED]


def test_stop_ends_after_the_trigger_in_progress_and_abort_ends_now():
    t = Script([A0, C1], count=None)
    t.s.begin(0.0)
    t.s.stop(0.01)
    assert t.s.on_ack("a", 1, 1, {}, 0.02) == [("c", 1, 1)]  # the trigger is finished first
    t.s.on_ack("c", 1, 1, {}, 0.03)
    assert t.s.state is RunState.STOPPED and t.s.result().last_trigger == 1
    t = Script([A0, C1], count=None)
    t.s.begin(0.0)
    t.s.abort("operator said so", 0.01)
    assert t.s.state is RunState.ABORTED and t.s.result().last_trigger == 0
    assert [(e.player, e.detail) for e in t.journal.of_kind(EventKind.MISSED)] == [
        ("a", "run aborted: operator said so")]
    t.check()


def test_busy_allowance_covers_only_players_that_owe_an_ack():
    t = Script([A0, C1], count=1, ack_timeout_s=2.0, policy="resend", resends=1)
    t.s.begin(0.0)
    assert t.s.busy_allowance("a") == pytest.approx(4.0)
    assert t.s.busy_allowance("c") == 0.0


@pytest.mark.parametrize("fields,message", [
    ({"count": 0}, "count"), ({"rate_hz": -1.0}, "rate"), ({"ack_timeout_s": 0}, "ack timeout"),
    ({"policy": "retry"}, "policy"), ({"resends": 2}, "only applies"), ({"first_trigger": 0}, "first trigger"),
])
def test_bad_plans_are_refused_with_the_field_named(fields, message):
    with pytest.raises(ConfigError, match=message):
        RunPlan(**fields)


def test_pairs_kept_for_late_answers_are_bounded_and_older_answers_are_late_not_wrong(monkeypatch):
    from harness.orchestra import schedule

    monkeypatch.setattr(schedule, "MAX_RETAINED_PAIRS", 5)
    t = Script([A0], count=20)
    out = t.s.begin(0.0)
    now = 0.0
    while out:
        now += 0.001
        out = t.s.on_ack("a", out[0].trigger, 1, {}, now)
    assert len(t.s._pairs) == 5
    t.s.on_ack("a", 2, 1, {}, now)  # an answer to a forgotten trigger: before, "never sent" (wrong_ack)
    t.s.on_ack("a", 99, 1, {}, now)  # never sent
    assert [(e.kind, e.trigger) for e in t.journal.of_kind(EventKind.LATE_ACK, EventKind.WRONG_ACK)] == [
        (EventKind.LATE_ACK, 2), (EventKind.WRONG_ACK, 99)]
