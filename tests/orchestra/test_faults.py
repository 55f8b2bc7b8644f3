"""Every fault of the issue: a clear, journaled outcome, and no run hangs past its deadline."""

import os
import sys
import time

import pytest

from harness.errors import PlayerFailed, RunFailed
from harness.orchestra import EventKind, Player, PlayerConfig, RunState, check_journal
from harness.orchestra.player import EXIT_DIRECTOR_LOST, EXIT_ERROR
from harness.orchestra.protocol import PROTOCOL_VERSION, MsgType, encode
from harness.procs import spawn, wait_until
from tests.orchestra.conftest import TEST_HEARTBEAT_S, TEST_LIVENESS

SILENCE_S = TEST_HEARTBEAT_S * TEST_LIVENESS


def players_of(journal, kind):
    return [(e.trigger, e.player) for e in journal.of_kind(kind)]


def test_a_player_that_crashes_mid_run_is_missed_lost_and_reported(ensemble):
    ensemble.add_players([PlayerConfig("steady"), PlayerConfig("crasher", "crash-at", {"trigger": 3})])
    t0 = time.monotonic()
    result = ensemble.run(count=6, ack_timeout_s=0.5, policy="skip")
    assert time.monotonic() - t0 < 10
    assert result.state is RunState.COMPLETED and not result.ok
    journal = ensemble.journal
    assert (3, "crasher") in players_of(journal, EventKind.MISSED)
    assert [p for p in players_of(journal, EventKind.ACK) if p[1] == "steady"] == [(n, "steady") for n in range(1, 7)]
    assert wait_until(lambda: journal.of_kind(EventKind.PLAYER_LOST), 10)
    check_journal(journal)
    errors = ensemble.take_player_errors()
    exits = [e for e in errors if "exited with code 70" in str(e)]
    assert exits and exits[0].player == "crasher"
    assert "action 'crash-at' set up" in exits[0].traceback_text  # the tail of its own log
    assert any(e.player == "crasher" and "was lost" in str(e) for e in errors)


def test_a_crash_under_the_fail_policy_fails_the_run_quickly(ensemble):
    ensemble.add_player(PlayerConfig("crasher", "crash-at", {"trigger": 2}))
    t0 = time.monotonic()
    with pytest.raises(RunFailed, match="did not ack trigger 2") as info:
        ensemble.run(count=100, ack_timeout_s=0.5, policy="fail")
    assert time.monotonic() - t0 < 5
    assert info.value.result.last_trigger == 1
    assert ensemble.journal.events[-1].kind in (EventKind.RUN_ABORTED, EventKind.PLAYER_LOST)
    ensemble.take_player_errors()


def test_a_hanging_player_times_out_and_the_run_goes_on(ensemble):
    ensemble.add_players([PlayerConfig("steady"), PlayerConfig("hanger", "hang-at", {"trigger": 2})])
    t0 = time.monotonic()
    result = ensemble.run(count=4, ack_timeout_s=0.5, policy="skip")
    assert time.monotonic() - t0 < 10
    assert (2, "hanger") in players_of(ensemble.journal, EventKind.TIMEOUT)
    assert (2, "hanger") in players_of(ensemble.journal, EventKind.MISSED)
    assert result.state is RunState.COMPLETED and result.last_trigger == 4
    assert wait_until(lambda: ensemble.journal.of_kind(EventKind.PLAYER_LOST), 10)
    lost = ensemble.journal.of_kind(EventKind.PLAYER_LOST)[0]
    assert lost.player == "hanger" and "no message" in lost.detail
    check_journal(ensemble.journal)
    ensemble.take_player_errors()


def test_an_action_that_raises_is_nacked_with_its_traceback_and_reraised(ensemble):
    ensemble.add_player(PlayerConfig("flaky", "fail-at", {"trigger": 2, "message": "detector on fire"}))
    result = ensemble.run(count=3, policy="skip")
    assert result.nacked == 1 and result.acked == 2
    nack = ensemble.journal.of_kind(EventKind.NACK)[0]
    assert nack.trigger == 2 and "RuntimeError: detector on fire" in nack.detail
    with pytest.raises(PlayerFailed, match="(?s)'flaky' failed trigger 2.*detector on fire") as info:
        ensemble.raise_player_errors()
    assert info.value.player == "flaky" and info.value.trigger == 2
    ensemble.raise_player_errors()  # raised once, then consumed


def test_a_nack_under_the_fail_policy_fails_the_run(ensemble):
    ensemble.add_player(PlayerConfig("flaky", "fail-at", {"trigger": 1}), mode="thread")
    with pytest.raises(RunFailed, match="nack"):
        ensemble.run(count=3, policy="fail")
    assert len(ensemble.take_player_errors()) == 1


def test_wrong_duplicate_and_garbage_answers_are_journaled_and_ignored(ensemble, rogues):
    ensemble.add_player(PlayerConfig("steady"))
    rogue = rogues("rogue")
    assert rogue.hello().type is MsgType.WELCOME
    handle = ensemble.start_run(count=2, ack_timeout_s=1.0, policy="skip", start_players=False)
    trigger = rogue.expect(MsgType.TRIGGER)["trigger"]
    rogue.ack(trigger + 40)  # a trigger never sent to it
    rogue.send([b"\x00garbage\xff", b"more"])
    rogue.send([b'{"type": "ack", "trigger": "one"}'])
    rogue.ack(trigger)
    rogue.ack(trigger)  # twice
    assert rogue.expect(MsgType.TRIGGER)["trigger"] == trigger + 1
    rogue.ack(trigger + 1)
    result = handle.wait(10)
    assert result.ok and result.acked == 4
    journal = ensemble.journal
    assert players_of(journal, EventKind.WRONG_ACK) == [(trigger + 40, "rogue")]
    assert players_of(journal, EventKind.DUPLICATE_ACK) == [(trigger, "rogue")]
    reasons = [e.detail for e in journal.of_kind(EventKind.GARBAGE)]
    assert len(reasons) == 2 and "not JSON" in reasons[0] and "lacks field" in reasons[1]
    assert ensemble.director.info("steady")["triggers_done"] == 2  # the director kept serving
    check_journal(journal)


def test_a_lost_ack_is_resent_and_the_second_attempt_counts(ensemble, rogues):
    rogue = rogues("deaf")
    rogue.hello()
    handle = ensemble.start_run(count=1, ack_timeout_s=0.3, policy="resend", resends=2, start_players=False)
    first = rogue.expect(MsgType.TRIGGER)
    assert first["attempt"] == 1  # ignored, as if lost on the way
    second = rogue.expect(MsgType.TRIGGER)
    assert (second["trigger"], second["attempt"]) == (first["trigger"], 2)
    rogue.ack(second["trigger"], attempt=2)
    assert handle.wait(10).ok
    kinds = [(e.kind, e.attempt) for e in ensemble.journal if e.player == "deaf" and e.trigger == 1]
    assert kinds == [(EventKind.TRIGGER_SENT, 1), (EventKind.TIMEOUT, 1), (EventKind.RESENT, 2), (EventKind.ACK, 2)]


def test_a_real_player_answers_a_resent_trigger_without_running_it_twice(ensemble, tmp_path):
    from tests.orchestra.test_director import recorder

    ensemble.add_player(recorder("slow", tmp_path, seconds=0.6))
    result = ensemble.run(count=1, ack_timeout_s=0.4, policy="resend", resends=1)
    assert result.ok
    assert len((tmp_path / "slow.jsonl").read_text().splitlines()) == 1
    assert wait_until(lambda: ensemble.journal.of_kind(EventKind.LATE_ACK), 5)  # the answer to attempt 2


def test_a_garbage_flood_does_not_stop_the_director(ensemble, rogues):
    ensemble.add_player(PlayerConfig("steady"))
    rogue = rogues("flood")
    for i in range(300):
        rogue.send([os.urandom(1 + i % 50)])
    assert ensemble.run(count=20).ok
    assert 0 < len(ensemble.journal.of_kind(EventKind.GARBAGE)) <= 300


def test_a_second_player_with_the_same_name_is_rejected(ensemble):
    first = ensemble.add_player(PlayerConfig("det"))
    ensemble.pool._players["det-again"] = ensemble.pool._players.pop("det")  # keep the first one's handle
    second = ensemble.pool.start(PlayerConfig("det"))
    assert second.wait(15), "the duplicate player did not exit"
    assert second.child.returncode == EXIT_ERROR
    assert "already connected" in second.log_text()
    rejected = ensemble.journal.of_kind(EventKind.PLAYER_REJECTED)
    assert [e.player for e in rejected] == ["det"] and "unique --name" in rejected[0].detail
    assert ensemble.director.player("det").pid == first.pid
    ensemble.take_player_errors()


def test_an_unsupported_protocol_version_is_rejected(ensemble):
    config = PlayerConfig("future", director=ensemble.endpoint, protocol=PROTOCOL_VERSION + 1, hello_timeout_s=10)
    with pytest.raises(PlayerFailed, match="rejected.*protocol version 2.*supports 1"):
        Player(config, mode="thread").run()
    rejected = ensemble.journal.of_kind(EventKind.PLAYER_REJECTED)
    assert rejected[0].player == "future" and not ensemble.director.players()


def test_a_player_declared_lost_is_told_to_leave_when_it_speaks_again(ensemble, rogues):
    rogue = rogues("sleepy")
    rogue.hello()
    assert wait_until(lambda: ensemble.journal.of_kind(EventKind.PLAYER_LOST), SILENCE_S * 4 + 5)
    rogue.send(encode(MsgType.HEARTBEAT))
    assert "not registered" in rogue.expect(MsgType.BYE)["reason"]
    ensemble.take_player_errors()


def test_a_player_stops_when_its_director_vanishes(tmp_path):
    endpoint_file = tmp_path / "endpoint"
    director = spawn("director", [sys.executable, "-m", "harness", "director", "--players", "1", "--endless",
                                  "--rate", "20", "--heartbeat", "0.2", "--liveness", "3",
                                  "--endpoint-file", str(endpoint_file)], tmp_path / "director.log")
    player = None
    try:
        assert wait_until(lambda: endpoint_file.exists() and endpoint_file.read_text().strip(), 30)
        endpoint = endpoint_file.read_text().strip()
        player = spawn("player", [sys.executable, "-m", "harness", "player", "--director", endpoint, "--name", "p",
                                  "--stream", "noop"], tmp_path / "player.log")
        assert wait_until(lambda: "set up" in player.log_tail(), 30), player.log_tail()
        director.kill()  # SIGKILL: no bye
        t0 = time.monotonic()
        code = player.popen.wait(timeout=15)
        assert code == EXIT_DIRECTOR_LOST
        assert time.monotonic() - t0 < 10
        assert "vanished" in player.log_tail()
    finally:
        director.kill()
        if player is not None:
            player.stop(5)


def test_a_late_answer_to_an_earlier_run_is_never_taken_for_this_run(ensemble, rogues):
    rogue = rogues("slowpoke")
    rogue.hello()
    first = ensemble.start_run(count=1, ack_timeout_s=0.3, policy="skip", start_players=False)
    assert rogue.expect(MsgType.TRIGGER)["run"] == 1
    assert first.wait(10).missed == 1  # no answer in time
    second = ensemble.start_run(count=1, ack_timeout_s=5.0, policy="skip", start_players=False)
    trigger = rogue.expect(MsgType.TRIGGER)
    assert (trigger["run"], trigger["trigger"]) == (2, 1)
    rogue.ack(1, run=1)  # the late answer to run 1, trigger 1: same trigger number as the one now owed
    assert wait_until(lambda: ensemble.journal.of_kind(EventKind.LATE_ACK), 5)
    assert not second.done()
    rogue.ack(1, run=2)
    assert second.wait(10).ok
    late = ensemble.journal.of_kind(EventKind.LATE_ACK)[0]
    assert "run 1" in late.detail
    check_journal(ensemble.journal)
