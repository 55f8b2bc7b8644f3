"""``donki director`` / ``donki player`` / ``donki curve-keys`` from a shell, as separate processes."""

import socket
import sys

import pytest

from harness.cli.main import main
from harness.cli.orchestra_cmd import parse_param
from harness.orchestra import EventKind, Journal, check_journal
from harness.procs import spawn, wait_until

DONKI = [sys.executable, "-m", "harness"]


def start_director(tmp_path, *flags, name="director"):
    endpoint_file = tmp_path / f"{name}.endpoint"
    child = spawn(name, [*DONKI, "director", "--endpoint-file", str(endpoint_file), *flags],
                  tmp_path / f"{name}.log")
    assert wait_until(lambda: endpoint_file.exists() and endpoint_file.read_text().strip() or not child.alive(), 30)
    assert child.alive(), child.log_tail()
    return child, endpoint_file.read_text().strip()


def start_player(tmp_path, endpoint, name, *flags):
    return spawn(name, [*DONKI, "player", "--director", endpoint, "--name", name, *flags], tmp_path / f"{name}.log")


def test_a_director_and_two_players_run_a_sequence(tmp_path):
    journal_path = tmp_path / "journal.json"
    director, endpoint = start_director(tmp_path, "--players", "2", "--count", "20", "--rate", "100",
                                        "--journal", str(journal_path))
    det = start_player(tmp_path, endpoint, "det", "--stream", "sleep", "--param", "seconds=0.001",
                       "--stream-name", "det_ev44")
    motion = start_player(tmp_path, endpoint, "motion", "--priority", "1", "--divisor", "5", "--stream", "noop")
    try:
        assert director.popen.wait(timeout=60) == 0, director.log_tail()
        assert det.popen.wait(timeout=15) == 0 and motion.popen.wait(timeout=15) == 0
    finally:
        for child in (director, det, motion):
            child.stop(5)
    log = director.log_tail()
    assert "run completed: completed 20 trigger(s)" in log
    assert "det: acked 20, nacked 0, missed 0" in log and "motion: acked 4, nacked 0, missed 0" in log
    journal = Journal.from_json(journal_path.read_text())
    check_journal(journal)
    joined = {e.player: e.detail for e in journal.of_kind(EventKind.PLAYER_JOINED)}
    assert '"streams": ["det_ev44"]' in joined["det"]
    assert "director said bye" in det.log_tail()


def test_a_run_with_failures_exits_1_and_names_them(tmp_path):
    director, endpoint = start_director(tmp_path, "--players", "1", "--count", "3", "--policy", "skip")
    player = start_player(tmp_path, endpoint, "flaky", "--stream", "fail-at", "--param", "trigger=2",
                          "--param", "message=cooling failed")
    try:
        assert director.popen.wait(timeout=60) == 1, director.log_tail()
    finally:
        director.stop(5)
        player.stop(5)
    log = director.log_tail(80)
    assert "flaky: acked 2, nacked 1, missed 0" in log
    assert "player failure: player 'flaky' failed trigger 2" in log and "cooling failed" in log


def test_curve_keys_and_a_curve_protected_run(tmp_path):
    assert main(["curve-keys", "director", "--dir", str(tmp_path / "d")]) == 0
    assert main(["curve-keys", "det", "--dir", str(tmp_path / "p")]) == 0
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "det.key").write_bytes((tmp_path / "p" / "det.key").read_bytes())
    director, endpoint = start_director(tmp_path, "--players", "1", "--count", "3", "--curve-secret",
                                        str(tmp_path / "d" / "director.key_secret"), "--curve-allowed", str(allowed))
    player = start_player(tmp_path, endpoint, "det", "--stream", "noop",
                          "--curve-secret", str(tmp_path / "p" / "det.key_secret"),
                          "--curve-server-key", str(tmp_path / "d" / "director.key"))
    try:
        assert director.popen.wait(timeout=60) == 0, director.log_tail()
    finally:
        director.stop(5)
        player.stop(5)
    assert "det: acked 3" in director.log_tail()


@pytest.mark.parametrize("argv,message", [
    (["player", "--director", "localhost:5555", "--name", "p", "--stream", "noop"], "must look like tcp://"),
    (["player", "--director", "tcp://127.0.0.1:1", "--name", "p", "--stream", "warp"], "unknown player action kind"),
    (["player", "--director", "tcp://127.0.0.1:1", "--name", "p", "--stream", "sleep", "--param", "seconds"],
     "expected KEY=VALUE"),
    (["player", "--director", "tcp://127.0.0.1:1", "--name", "p", "--stream", "sleep"], "needs the parameter"),
    (["player", "--director", "tcp://127.0.0.1:1", "--name", "bad name", "--stream", "noop"], "player name"),
    (["player", "--director", "tcp://127.0.0.1:1", "--name", "p", "--stream", "noop", "--divisor", "0"], "divisor"),
    (["player", "--director", "tcp://127.0.0.1:1", "--name", "p", "--stream", "noop", "--params-json", "[1]"],
     "JSON object"),
    (["player", "--director", "tcp://127.0.0.1:1", "--name", "p", "--stream", "noop", "--curve-secret", "x"],
     "both --curve-secret and --curve-server-key"),
    (["player", "--director", "tcp://127.0.0.1:1", "--name", "p", "--stream", "noop", "--hello-timeout", "0.3"],
     "no welcome from tcp://127.0.0.1:1"),
    (["director", "--players", "1", "--rate", "-5"], "rate"),
    (["director", "--players", "1", "--resends", "2"], "only applies with policy 'resend'"),
    (["director", "--players", "1", "--register-timeout", "0.2"], "did not register"),
])
def test_bad_input_exits_2_with_a_clear_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_binding_a_busy_port_names_the_port(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["director", "--players", "1", "--port", str(port)]) == 2
    assert f"cannot bind tcp://127.0.0.1:{port}" in capsys.readouterr().err


def test_usage_errors_are_argparse_errors(capsys):
    assert main(["director", "--players", "1", "--policy", "retry"]) == 2
    assert "invalid choice: 'retry'" in capsys.readouterr().err


@pytest.mark.parametrize("text,expected", [("seconds=0.5", ("seconds", 0.5)), ("trigger=3", ("trigger", 3)),
                                           ("message=on fire", ("message", "on fire")), ("flag=true", ("flag", True)),
                                           ("shape=[2, 3]", ("shape", [2, 3])), ("empty=", ("empty", ""))])
def test_param_values_are_json_when_they_parse(text, expected):
    assert parse_param(text) == expected
