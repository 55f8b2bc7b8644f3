"""Director and players over real sockets, players in separate processes."""

import json
import time

import pytest

from harness.errors import ConfigError, PlayerError, RunError
from harness.orchestra import EventKind, PlayerConfig, PlayerState, RunState, check_journal
from harness.procs import wait_until
from tests.orchestra.helpers import intervals

RECORDER = "tests.orchestra.helpers:IntervalRecorder"


def recorder(name, tmp_path, seconds=0.0, **spec):
    return PlayerConfig(name, "python", {"callable": RECORDER, "factory": True,
                                       "kwargs": {"dir": str(tmp_path), "seconds": seconds}}, **spec)


def test_players_register_with_priority_streams_and_identity(ensemble):
    ensemble.add_players([PlayerConfig("det", priority=0, streams=("det_ev44", "det_ad00")),
                          PlayerConfig("motion", priority=2, divisor=14, streams=("motion_f144",))])
    players = {p.name: p for p in ensemble.director.players()}
    assert players["det"].streams == ("det_ev44", "det_ad00") and players["motion"].divisor == 14
    assert players["motion"].priority == 2 and players["det"].state is PlayerState.JOINED
    assert players["det"].pid == ensemble.pool["det"].pid  # a separate OS process
    joined = {e.player: json.loads(e.detail) for e in ensemble.journal.of_kind(EventKind.PLAYER_JOINED)}
    assert joined["motion"]["streams"] == ["motion_f144"]
    assert {"priority", "streams", "divisor", "protocol", "host", "pid"} <= set(joined["motion"])
    info = ensemble.director.info("det")
    assert info["name"] == "det" and info["mode"] == "process" and info["triggers_done"] == 0
    assert "joined" in ensemble.director.fetch_log("det", lines=20)


def test_levels_never_overlap_and_every_due_pair_is_acked(ensemble, tmp_path):
    specs = [recorder(f"p{i}", tmp_path, seconds=0.002 * (i % 3), priority=i // 2, divisor=1 + i % 2)
             for i in range(6)]
    ensemble.add_players(specs)
    result = ensemble.run(count=12, ack_timeout_s=5.0)
    assert result.state is RunState.COMPLETED and result.ok
    check_journal(ensemble.journal)
    sent = {(e.trigger, e.player) for e in ensemble.journal.of_kind(EventKind.TRIGGER_SENT)}
    due = {(n, s.name) for s in specs for n in range(1, 13) if (n - 1) % s.divisor == 0}
    assert sent == due
    assert {(e.trigger, e.player) for e in ensemble.journal.of_kind(EventKind.ACK)} == due
    # the players' own clocks agree: every level-k action ended before any level-k+1 action began
    done = {s.name: {t: (a, b) for t, a, b in intervals(tmp_path / f"{s.name}.jsonl")} for s in specs}
    for n in range(1, 13):
        for low in specs:
            for high in specs:
                if high.priority > low.priority and n in done[low.name] and n in done[high.name]:
                    assert done[low.name][n][1] <= done[high.name][n][0]
    ensemble.raise_player_errors()


def test_players_of_one_level_run_in_parallel(ensemble, tmp_path):
    ensemble.add_players([recorder("left", tmp_path, seconds=0.4), recorder("right", tmp_path, seconds=0.4)])
    ensemble.run(count=1, ack_timeout_s=10.0)
    (_, l0, l1), = intervals(tmp_path / "left.jsonl")
    (_, r0, r1), = intervals(tmp_path / "right.jsonl")
    assert l0 < r1 and r0 < l1, "the two actions of one level did not overlap in time"
    kinds = [e.kind for e in ensemble.journal if e.kind in (EventKind.TRIGGER_SENT, EventKind.ACK)]
    assert kinds == [EventKind.TRIGGER_SENT, EventKind.TRIGGER_SENT, EventKind.ACK, EventKind.ACK]


def test_acks_carry_the_counts_and_latency_reported_by_the_player(ensemble, tmp_path):
    ensemble.add_player(recorder("det", tmp_path, seconds=0.05))
    ensemble.run(count=3, ack_timeout_s=5.0)
    acks = ensemble.journal.of_kind(EventKind.ACK)
    assert [a.counts for a in acks] == [{"messages": 1, "bytes": n, "failed": 0} for n in (1, 2, 3)]
    assert all(0.04 < a.latency_s < 5.0 for a in acks)


def test_start_and_stop_set_the_action_up_and_tear_it_down(ensemble, tmp_path):
    ensemble.add_player(recorder("det", tmp_path))
    ensemble.director.start_players(["det"])
    assert (tmp_path / "det.setup").read_text() == "set up"
    assert ensemble.director.player("det").state is PlayerState.STARTED
    ensemble.director.stop_players(["det"])
    assert (tmp_path / "det.teardown").read_text() == "torn down"
    assert ensemble.director.player("det").state is PlayerState.JOINED


def test_set_priority_while_idle_moves_the_player_and_is_refused_while_running(ensemble):
    ensemble.add_players([PlayerConfig("a"), PlayerConfig("b")])
    ensemble.director.set_priority("b", 1)
    assert ensemble.director.info("b")["priority"] == 1
    ensemble.run(count=1)
    levels = {e.player: e.level for e in ensemble.journal.of_kind(EventKind.TRIGGER_SENT)}
    assert levels == {"a": 0, "b": 1}
    handle = ensemble.start_run(count=None, rate_hz=50)
    try:
        with pytest.raises(RunError, match="while a run is in progress"):
            ensemble.director.set_priority("a", 3)
    finally:
        handle.stop()
        handle.wait(10)
    ensemble.director.set_priority("b", -1)  # disabled
    before = len(ensemble.journal.of_kind(EventKind.TRIGGER_SENT))
    ensemble.run(count=2)
    assert {e.player for e in ensemble.journal.of_kind(EventKind.TRIGGER_SENT)[before:]} == {"a"}
    changes = [json.loads(e.detail) for e in ensemble.journal.of_kind(EventKind.PRIORITY_CHANGED)]
    assert changes == [{"from": 0, "to": 1}, {"from": 1, "to": -1}]


def test_pause_resume_stop_and_abort(ensemble):
    ensemble.add_player(PlayerConfig("a"))
    handle = ensemble.start_run(count=None, rate_hz=100)
    assert wait_until(lambda: len(ensemble.journal.of_kind(EventKind.ACK)) >= 3, 10)
    handle.pause()
    assert wait_until(lambda: ensemble.director.run_state == "paused", 5)
    frozen = len(ensemble.journal.of_kind(EventKind.TRIGGER_SENT))
    time.sleep(0.2)  # long enough for 20 triggers at 100 Hz, were the pause ignored
    assert len(ensemble.journal.of_kind(EventKind.TRIGGER_SENT)) == frozen
    handle.resume()
    assert wait_until(lambda: len(ensemble.journal.of_kind(EventKind.TRIGGER_SENT)) > frozen + 2, 10)
    handle.stop()
    result = handle.wait(10)
    assert result.state is RunState.STOPPED and result.missed == 0
    handle = ensemble.start_run(count=None, rate_hz=100)
    handle.abort("enough")
    assert handle.wait(10).state is RunState.ABORTED
    check_journal(ensemble.journal)


def test_a_run_needs_connected_players(ensemble):
    with pytest.raises(RunError, match="no enabled player is connected"):
        ensemble.run(count=1)


def test_waiting_for_a_player_that_never_comes_names_who_is_there(ensemble):
    ensemble.add_player(PlayerConfig("here"))
    with pytest.raises(PlayerError, match=r"\['ghost'\].*connected: \['here'\]"):
        ensemble.director.wait_for_players(["ghost"], timeout_s=0.3)


def test_an_endless_run_needs_a_deadline(ensemble):
    ensemble.add_player(PlayerConfig("a"), mode="thread")
    with pytest.raises(ConfigError, match="endless"):
        ensemble.run(count=None)


def test_thread_players_serve_the_same_protocol(ensemble):
    ensemble.add_players([PlayerConfig("t1"), PlayerConfig("t2", priority=1)], mode="thread")
    result = ensemble.run(count=50)
    assert result.ok and result.acked == 100
    check_journal(ensemble.journal)


def test_delivered_ack_mode_waits_for_delivery_and_reports_its_outcome(ensemble):
    spec = PlayerConfig("kafka-ish", "python", {"callable": "tests.orchestra.helpers:DeliveryTracker", "factory": True,
                                              "kwargs": {"messages": 3}}, ack_mode="delivery")
    ensemble.add_player(spec)
    ensemble.run(count=2)
    counts = [e.counts for e in ensemble.journal.of_kind(EventKind.ACK)]
    assert counts == [{"messages": 3, "bytes": 300, "failed": 1, "delivered": 2}] * 2


def test_delivered_ack_mode_needs_an_action_that_can_wait(ensemble):
    with pytest.raises(PlayerError, match="(?s)ack mode 'delivery' needs an action with wait_delivered"):
        ensemble.add_player(PlayerConfig("plain", "noop", ack_mode="delivery"), timeout_s=20)


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_a_player_that_cannot_start_is_reported_with_its_reason(ensemble, mode):
    with pytest.raises(PlayerError, match="unknown player action kind 'warp'") as info:
        ensemble.add_player(PlayerConfig("broken", "warp"), mode=mode, timeout_s=20)
    assert info.value.player == "broken"


def test_a_setup_that_raises_is_reraised_with_the_players_traceback(ensemble):
    ensemble.add_player(PlayerConfig("geo", "python", {"callable": "tests.orchestra.helpers:BrokenSetup",
                                                     "factory": True}))
    with pytest.raises(PlayerError, match="(?s)'geo' refused start.*OSError: cannot open the detector geometry"):
        ensemble.run(count=1)


def test_a_bug_in_the_director_loop_reaches_the_caller(monkeypatch):
    from harness.orchestra import Director
    from harness.orchestra.director_loop import DirectorLoop

    def broken(self, now):
        raise ZeroDivisionError("a bug in housekeeping")

    monkeypatch.setattr(DirectorLoop, "_housekeeping", broken)
    director = Director().start()
    try:
        assert wait_until(lambda: not director._thread.is_alive(), 5)
        with pytest.raises(RunError, match="(?s)died of a bug.*ZeroDivisionError: a bug in housekeeping"):
            _ = director.run_state  # reading the property raises
    finally:
        director.close()
