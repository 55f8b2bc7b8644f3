from harness.checks import check_acks, check_levels
from harness.orchestra.journal import EventKind


def test_every_due_trigger_acked_once_passes(jb):
    jb.join("a").join("b", divisor=2)
    for n in (1, 2, 3):
        jb.send(n, "a")
        if n != 2:
            jb.send(n, "b")
        jb.ack(n, "a", latency=0.002)
        if n != 2:
            jb.ack(n, "b", latency=0.004)
    result = check_acks(jb.journal)
    assert result.passed, result.report()
    assert result.metrics["due"] == 5
    assert result.metrics["players"]["b"]["p50"] == 0.004


def test_a_missing_ack_fails_unless_misses_are_allowed(jb):
    jb.join("a").send(1, "a").ack(1, "a").send(2, "a")
    jb.event(EventKind.TIMEOUT, trigger=2, player="a", level=0, attempt=1)
    jb.event(EventKind.MISSED, trigger=2, player="a", level=0)
    result = check_acks(jb.journal)
    assert [f.message for f in result.findings] == ["player 'a' did not ack trigger 2 (journaled as missed)"]
    assert check_acks(jb.journal, allow_missed=True).passed


def test_a_trigger_without_any_outcome_is_named(jb):
    jb.join("a").send(1, "a")
    assert check_acks(jb.journal).findings[0].message == "player 'a' has no ack and no miss for trigger 1"


def test_a_due_player_never_triggered_is_named(jb):
    jb.join("a").join("b").send(1, "a").ack(1, "a")
    messages = [f.message for f in check_acks(jb.journal).findings]
    assert messages == ["player 'b' was due on trigger 1 but it was never sent"]


def test_a_nack_reports_the_last_line_of_the_traceback(jb):
    jb.join("a").send(1, "a")
    jb.event(EventKind.NACK, trigger=1, player="a", level=0,
             detail="Traceback (most recent call last):\n  File x\nValueError: detector offline\n")
    assert check_acks(jb.journal).findings[0].message == "player 'a' failed trigger 1: ValueError: detector offline"


def test_duplicate_and_wrong_acks_are_named(jb):
    jb.join("a").send(1, "a").ack(1, "a")
    jb.event(EventKind.DUPLICATE_ACK, trigger=1, player="a")
    jb.event(EventKind.WRONG_ACK, trigger=7, player="a")
    messages = {f.message for f in check_acks(jb.journal).findings}
    assert messages == {"player 'a' acked trigger 1 more than once",
                        "player 'a' acked trigger 7, which was never sent to it"}


def test_a_lost_or_disabled_player_is_no_longer_due(jb):
    jb.join("a").join("b").join("off", priority=-1)
    jb.send(1, "a").send(1, "b").ack(1, "a").ack(1, "b")
    jb.event(EventKind.PLAYER_LOST, player="b")
    jb.send(2, "a").ack(2, "a")
    assert check_acks(jb.journal).passed


def test_levels_in_order_pass(jb):
    jb.join("a", 0).join("b", 0).join("c", 1)
    jb.send(1, "a", 0).send(1, "b", 0).ack(1, "b", 0).ack(1, "a", 0).send(1, "c", 1).ack(1, "c", 1)
    jb.send(2, "a", 0).send(2, "b", 0).ack(2, "a", 0).ack(2, "b", 0).send(2, "c", 1).ack(2, "c", 1)
    assert check_levels(jb.journal).passed


def test_overlapping_levels_are_named(jb):
    jb.join("a", 0).join("c", 1)
    jb.send(1, "a", 0).send(1, "c", 1).ack(1, "c", 1).ack(1, "a", 0)
    [finding] = check_levels(jb.journal).findings
    assert finding.message.startswith("trigger 1: level 1 was triggered before player 'a' of level 0 finished (ack")


def test_triggers_going_backwards_are_named(jb):
    jb.join("a").send(2, "a").ack(2, "a").send(1, "a").ack(1, "a")
    assert "trigger 1 sent to 'a' after trigger 2" in check_levels(jb.journal).findings[0].message


def test_acks_without_a_level_take_the_level_of_their_send(jb):
    jb.join("a", 0).join("c", 1)
    jb.send(1, "a", 0).send(1, "c", 1)
    jb.event(EventKind.ACK, trigger=1, player="a", counts={})
    assert not check_levels(jb.journal).passed


def test_a_per_player_allowance_of_misses(jb):
    jb.join("a").join("b")
    for n in (1, 2, 3):
        jb.send(n, "a").send(n, "b").ack(n, "a")
        jb.event(EventKind.MISSED, trigger=n, player="b", level=0)
    result = check_acks(jb.journal, allow_missed={"b": 2})
    assert [f.message for f in result.findings] == ["player 'b' did not ack trigger 3 (journaled as missed; 2 allowed)"]
