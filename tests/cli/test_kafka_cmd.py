"""`donki kafka ...` run as a user would, in a separate process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from harness.kafka import TopicAdmin
from harness.kafka.ports import free_ports


def donki(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=timeout)


def test_status_json_reports_java_jars_and_docker():
    result = donki("kafka", "status", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["java"] and report["local_runtime"]["version"].startswith("4.")
    assert report["docker"] in (True, False)


def test_status_of_an_unreachable_cluster_fails():
    port = free_ports(1)[0]
    result = donki("kafka", "status", "--bootstrap", f"127.0.0.1:{port}", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["cluster"]["ok"] is False


def test_status_with_a_malformed_address_is_a_clear_error():
    result = donki("kafka", "status", "--bootstrap", "no-port")
    assert result.returncode == 2
    assert "--bootstrap: 'no-port' is not HOST:PORT" in result.stderr


def test_fetch_is_idempotent_and_prints_where_the_jars_are():
    result = donki("kafka", "fetch")
    assert result.returncode == 0, result.stderr
    assert "jars in" in result.stdout


def test_start_runs_in_the_foreground_until_interrupted():
    proc = subprocess.Popen([sys.executable, "-m", "harness", "kafka", "start", "--topic", "nmx_detector:3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        line = ""
        while not line.startswith("bootstrap:") and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, proc.stderr.read()
        bootstrap = line.split(":", 1)[1].strip()
        assert TopicAdmin({"bootstrap.servers": bootstrap}).partitions("nmx_detector") == 3
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        assert "stopping" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_selftest_round_trips_a_message():
    result = donki("kafka", "selftest", timeout=180)
    assert result.returncode == 0, result.stderr
    assert "consumed b'hello from pytest-donki'" in result.stdout
    assert "stopped the broker" in result.stdout


def test_unknown_subcommand_is_a_usage_error():
    result = donki("kafka", "explode")
    assert result.returncode == 2 and "invalid choice: 'explode'" in result.stderr


def test_node_without_a_running_cluster_says_what_to_start(tmp_path):
    result = donki("kafka", "node", "kill", "2", "--state", str(tmp_path / "none.json"))
    assert result.returncode == 2 and "donki kafka start" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_node_kill_and_restart_against_a_running_three_node_cluster(tmp_path):
    import os

    from harness.kafka import make_producer

    state = tmp_path / "cluster.json"
    env = {**os.environ, "DONKI_KAFKA_HEAP": "512m"}
    proc = subprocess.Popen([sys.executable, "-m", "harness", "kafka", "start", "--nodes", "3", "--state", str(state),
                             "--topic", "nmx_detector:3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    try:
        bootstrap = _bootstrap_line(proc)
        node2 = json.loads(state.read_text())["nodes"]["2"]["pid"]
        killed = donki("kafka", "node", "kill", "2", "--state", str(state))
        assert killed.returncode == 0 and "node 2 killed" in killed.stdout, killed.stderr
        assert not _alive(node2)
        assert json.loads(state.read_text())["nodes"]["2"]["pid"] is None
        restarted = donki("kafka", "node", "restart", "2", "--state", str(state))
        assert restarted.returncode == 0 and "node 2 serves again" in restarted.stdout, restarted.stderr
        assert json.loads(state.read_text())["nodes"]["2"]["pid"] not in (None, node2)
        producer = make_producer({"bootstrap.servers": bootstrap}, **{"message.timeout.ms": 20000})
        for i in range(30):
            producer.produce("nmx_detector", f"m{i}".encode())
        assert producer.flush(30) == 0
        assert proc.poll() is None, "the cluster process stopped: it took the kill as a crash"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        assert not state.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _bootstrap_line(proc) -> str:
    deadline = time.monotonic() + 120
    line = ""
    while not line.startswith("bootstrap:") and time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line or proc.poll() is None, proc.stderr.read()
    return line.split(":", 1)[1].strip()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
