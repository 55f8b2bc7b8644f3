"""Issue 12, director and player hardening: hostile frames, floods, binds, signals, orphans."""

import json
import logging
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from harness.cli import orchestra_cmd
from harness.cli.main import main
from harness.errors import ConfigError, ProtocolError
from harness.orchestra import Director, EventKind, PlayerConfig
from harness.orchestra.director import DEFAULT_LIVENESS
from harness.orchestra.launcher import PlayerPool
from harness.orchestra.player import EXIT_DIRECTOR_LOST
from harness.orchestra.protocol import MAX_MESSAGE_BYTES, PLAYER, MsgType, decode, encode, parse_ack
from harness.orchestra.rejections import FULL_EVENTS
from harness.procs import spawn, wait_until
from tests.orchestra.test_cli import DONKI, start_director

NESTED_ACK = (b'{"type":"ack","run":1,"trigger":1,"attempt":1,"counts":{"a":' + b"[" * 30_000 + b"}}")


def test_a_deeply_nested_header_is_a_protocol_error_not_a_crash():
    with pytest.raises(ProtocolError, match="nested too deeply"):
        decode([b"[" * 3000], PLAYER)
    assert parse_ack(NESTED_ACK) is None  # the ack fast path: RecursionError caught there too


def test_nested_frames_from_a_stranger_and_a_player_leave_the_director_serving(ensemble, rogues):
    ensemble.add_player(PlayerConfig("steady"))
    stranger = rogues("stranger")
    stranger.send([b"[" * 3000])
    stranger.send([NESTED_ACK])  # a canonical-looking ack from a peer that never said hello
    seated = rogues("seated", priority=-1)  # disabled: owes no acks
    assert seated.hello().type is MsgType.WELCOME
    seated.send([NESTED_ACK])  # the same from a registered peer: the ack fast path
    assert wait_until(lambda: ensemble.director.rejections.get("garbage") == 3, 10)
    assert ensemble.run(count=5, ack_timeout_s=2.0).ok
    reasons = [e.detail for e in ensemble.journal.of_kind(EventKind.GARBAGE)]
    assert len(reasons) == 3 and all("nested too deeply" in r for r in reasons)
    ensemble.take_player_errors()  # the silent rogue may be declared lost meanwhile


def test_a_frame_over_the_size_limit_is_dropped_by_libzmq(ensemble, rogues):
    ensemble.add_player(PlayerConfig("steady"))
    rogue = rogues("huge")
    rogue.send([b"[" + b" " * (MAX_MESSAGE_BYTES + 1024)])
    assert ensemble.run(count=5, ack_timeout_s=2.0).ok
    time.sleep(0.5)
    assert not ensemble.journal.of_kind(EventKind.GARBAGE)  # never reached Python: the peer was disconnected


def test_garbage_floods_are_counted_and_journaled_by_sample(ensemble, rogues):
    ensemble.add_player(PlayerConfig("steady"))
    rogue = rogues("flood")
    for i in range(3000):
        rogue.send([b"\xff" * (1 + i % 7)])
    assert wait_until(lambda: ensemble.director.rejections.get("garbage", 0) == 3000, 30)
    assert ensemble.run(count=5, ack_timeout_s=2.0).ok
    garbage = ensemble.journal.of_kind(EventKind.GARBAGE)
    assert FULL_EVENTS <= len(garbage) <= FULL_EVENTS + 40  # the first in full, then about one a second
    assert "in all" in garbage[-1].detail or len(garbage) == FULL_EVENTS


def test_a_non_loopback_bind_needs_curve_or_insecure(caplog):
    with pytest.raises(ConfigError, match="not loopback.*CURVE.*insecure"):
        Director("0.0.0.0")
    with caplog.at_level(logging.WARNING, logger="harness.orchestra.director"), \
            Director("0.0.0.0", insecure=True) as director:
        assert director.endpoint.startswith("tcp://0.0.0.0:")
    assert "without CURVE (insecure)" in caplog.text


def test_the_cli_refuses_a_non_loopback_bind_without_curve(capsys):
    assert main(["director", "--players", "1", "--host", "0.0.0.0"]) == 2
    assert "--insecure" in capsys.readouterr().err


def test_the_cli_director_liveness_default_is_the_documented_one():
    assert orchestra_cmd.DEFAULT_LIVENESS == DEFAULT_LIVENESS == 6
    docs = (Path(__file__).resolve().parents[2] / "docs" / "orchestra.md").read_text()
    assert "0.5 s × 6" in docs


def _fake_hellos(endpoint: str, total: int, sockets: int, done: threading.Event) -> None:
    import zmq

    context = zmq.Context()
    socks = []
    try:
        for _ in range(sockets):
            sock = context.socket(zmq.DEALER)
            sock.linger = 10_000  # deliver what is queued before the socket closes (0 dropped them under load)
            sock.connect(endpoint)
            socks.append(sock)
        for i in range(total):
            socks[i % sockets].send_multipart(encode(
                MsgType.HELLO, name=f"fake{i}", priority=0, divisor=1, streams=[], protocol=1, host="x", pid=i,
                kind="noop", ack_mode="send"))
    finally:
        for sock in socks:
            sock.close()
        context.term()
        done.set()


def test_two_thousand_fake_hellos_neither_slow_a_20_hz_run_nor_lose_its_player(tmp_path):
    from harness.orchestra import Ensemble
    from tests.orchestra.conftest import TEST_HEARTBEAT_S, TEST_LIVENESS

    with Ensemble(heartbeat_s=TEST_HEARTBEAT_S, liveness=TEST_LIVENESS, max_players=1,
                  log_dir=tmp_path / "players") as ens:
        ens.add_player(PlayerConfig("real"))
        handle = ens.start_run(count=60, rate_hz=20, ack_timeout_s=1.0, policy="skip")
        done = threading.Event()
        flood = threading.Thread(target=_fake_hellos, args=(ens.endpoint, 2000, 50, done), daemon=True)
        flood.start()
        result = handle.wait(30)
        flood.join(30)
        assert done.is_set()
        assert result.ok and result.acked == 60, result
        assert result.elapsed_s < 60 / 20 * 1.5, result.elapsed_s
        assert not ens.journal.of_kind(EventKind.PLAYER_LOST)
        assert [p.name for p in ens.director.players()] == ["real"]
        def refused() -> int:
            counts = ens.director.rejections
            return counts.get("hello", 0) + counts.get("hello_dropped", 0)

        assert wait_until(lambda: refused() == 2000, 15), f"{refused()} of 2000 fake hellos refused"
        assert len(ens.journal.of_kind(EventKind.PLAYER_REJECTED)) < 60  # sampled, not 2,000 entries


def test_sigterm_ends_a_counted_director_run_and_writes_its_journal(tmp_path):
    journal = tmp_path / "journal.json"
    director, endpoint = start_director(tmp_path, "--players", "1", "--count", "100000", "--rate", "5",
                                        "--journal", str(journal))
    player = spawn("p", [*DONKI, "player", "--director", endpoint, "--name", "p", "--stream", "noop"],
                   tmp_path / "p.log")
    try:
        assert wait_until(lambda: "players: p" in director.log_tail(), 30), director.log_tail()
        time.sleep(0.5)
        os.kill(director.pid, signal.SIGTERM)
        director.popen.wait(timeout=20)
    finally:
        director.kill()
        player.stop(5)
    assert journal.exists(), director.log_tail()
    assert json.loads(journal.read_text())


def test_sigterm_while_waiting_for_players_writes_the_journal(tmp_path):
    journal = tmp_path / "journal.json"
    director, _ = start_director(tmp_path, "--players", "1", "--journal", str(journal))
    try:
        os.kill(director.pid, signal.SIGTERM)
        assert director.popen.wait(timeout=10) != 0
    finally:
        director.kill()
    assert journal.exists()


@pytest.mark.parametrize("kind,params", [
    ("hang-at", {"trigger": 2}),  # listens to the stop event
    ("python", {"callable": "tests.orchestra.helpers:Stuck", "factory": True}),  # does not
])
def test_a_player_stuck_in_its_action_exits_when_the_director_dies(tmp_path, kind, params):
    if kind == "python":
        params = {**params, "kwargs": {"dir": str(tmp_path), "at": 2}}
    director, endpoint = start_director(tmp_path, "--players", "1", "--count", "5", "--rate", "10",
                                        "--ack-timeout", "600", "--heartbeat", "0.2", "--liveness", "3")
    player = spawn("p", [*DONKI, "player", "--director", endpoint, "--name", "p", "--stream", kind,
                         "--params-json", json.dumps(params)], tmp_path / "p.log")
    try:
        assert wait_until(lambda: "players: p" in director.log_tail(), 30), director.log_tail()
        time.sleep(1.0)  # trigger 2 is sent at 0.1 s: the action is stuck now
        director.kill()
        t0 = time.monotonic()
        assert player.popen.wait(timeout=30) == EXIT_DIRECTOR_LOST, player.log_tail()
        assert time.monotonic() - t0 < 20
        assert "disconnected from the director" in player.log_tail()
    finally:
        director.kill()
        player.kill()


def test_a_player_pool_removes_the_directory_it_made(tmp_path):
    with Director() as director:
        pool = PlayerPool(director.endpoint)
        pool.start(PlayerConfig("p"))
        director.wait_for_players(["p"], 30)
        made = pool.log_dir
        assert made.name.startswith("donki-players-") and made.is_dir()
        pool.close()
    assert not made.exists()
    given = PlayerPool("tcp://127.0.0.1:1", log_dir=tmp_path / "mine")
    given.close()
    assert (tmp_path / "mine").is_dir()  # a directory it was given stays


@pytest.mark.parametrize("argv,message", [
    (["director", "--players", "1", "--port", "70000"], "--port: 70000"),
    (["director", "--players", "1", "--port", "-1"], "--port: -1"),
    (["director", "--players", "1", "--heartbeat", "inf"], "--heartbeat: inf"),
    (["director", "--players", "1", "--register-timeout", "nan"], "--register-timeout: nan"),
    (["director", "--players", "1", "--journal", "/proc/x"], "/proc"),
    (["director", "--players", "1", "--journal", ""], "empty"),
    (["director", "--players", "100000"], "--players"),
    (["curve-keys", "../../x"], "plain name"),
    (["player", "--director", "tcp://127.0.0.1:1", "--name", "p", "--stream", "noop",
      "--params-json", "[" * 100_000], "nested too deeply"),
    (["player", "--director", "tcp://127.0.0.1:1", "--name", "p", "--stream", "noop",
      "--param", "x=" + "[" * 100_000], "nested too deeply"),
    (["player", "--director", "tcp://127.0.0.1:1", "--name", "p", "--stream", "sleep",
      "--param", "seconds=NaN"], "finite"),
])
def test_bad_orchestra_values_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error" in line]) == 1


def test_the_director_api_refuses_bad_numbers():
    for kwargs in ({"port": 70000}, {"port": -1}, {"heartbeat_s": float("inf")}, {"heartbeat_s": float("nan")},
                   {"liveness": 0}, {"max_players": 0}):
        with pytest.raises(ConfigError):
            Director(**kwargs)


def test_the_player_re_sends_its_hello_until_welcomed(tmp_path):
    """A hello dropped by a flooded director's gate is said again: the player still joins."""
    import zmq

    from harness.orchestra import Player, PlayerConfig

    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    router.linger = 0
    port = router.bind_to_random_port("tcp://127.0.0.1")
    stop = threading.Event()
    config = PlayerConfig("p", director=f"tcp://127.0.0.1:{port}", hello_timeout_s=10)
    player = Player(config, stop_event=stop, mode="thread")
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("exit", player.run()), daemon=True)
    thread.start()
    try:
        assert router.poll(5000)
        router.recv_multipart()  # the first hello: dropped
        assert router.poll(5000), "no second hello"
        identity = router.recv_multipart()[0]
        router.send_multipart([identity, *encode(MsgType.WELCOME, protocol=1, heartbeat_s=0.2, liveness=5)])
        router.send_multipart([identity, *encode(MsgType.BYE, reason="done")])
        thread.join(10)
        assert result.get("exit") == "bye"
    finally:
        stop.set()
        thread.join(5)
        router.close(0)
        context.term()


def test_a_player_stopped_while_it_waits_for_its_welcome_stops_cleanly():
    """Its owner may stop it the moment the director registered it, before the welcome arrived
    (found by the state-machine test): a stop, with a bye, not a PlayerFailed."""
    import zmq

    from harness.orchestra import Player, PlayerConfig

    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    router.linger = 0
    port = router.bind_to_random_port("tcp://127.0.0.1")
    stop = threading.Event()
    player = Player(PlayerConfig("p", director=f"tcp://127.0.0.1:{port}", hello_timeout_s=10), stop_event=stop,
                    mode="thread")
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("exit", player.run()), daemon=True)
    thread.start()
    try:
        assert router.poll(5000)
        router.recv_multipart()  # its hello, never answered
        stop.set()
        thread.join(10)
        assert not thread.is_alive() and result.get("exit") == "stopped"
        assert router.poll(5000), "no bye"
        assert decode(router.recv_multipart()[1:], PLAYER).type is MsgType.BYE
    finally:
        stop.set()
        thread.join(5)
        router.close(0)
        context.term()
