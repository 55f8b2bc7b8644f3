"""CLI messages and progress against a real broker, through a pipe and a real terminal."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from harness.kafka import TopicAdmin, make_producer
from harness.kafka.ports import free_ports
from tests.cli.terminal import ANSI, in_pipe, in_terminal

RUNNERS = pytest.mark.parametrize("run", [in_pipe, in_terminal], ids=["pipe", "terminal"])


@pytest.fixture()
def env(donki_kafka):
    """Only DONKI_BOOTSTRAP names the broker: every command must honour it."""
    return {"DONKI_BOOTSTRAP": donki_kafka.bootstrap_servers}


@RUNNERS
def test_topics_create_list_describe_delete(run, env, donki_kafka):
    name = f"ux_topics_{run.__name__}"
    done = run("kafka", "topics", "create", name, "--partitions", "2", env=env)
    assert done.returncode == 0, done.out + done.err
    assert TopicAdmin(donki_kafka.client_config).partitions(name) == 2
    listed = run("kafka", "topics", "list", env=env)
    assert any(line.split() == [name, "2"] for line in listed.out.splitlines())
    described = run("kafka", "topics", "describe", name, env=env)
    rows = [line.split() for line in described.out.splitlines() if line.split()[:1] == [name]]
    assert [r[1] for r in rows] == ["0", "1"] and all(r[-1] == "0" for r in rows)
    assert run("kafka", "topics", "delete", name, env=env).returncode == 0
    assert name not in TopicAdmin(donki_kafka.client_config).list()
    missing = run("kafka", "topics", "delete", name, env=env)
    assert missing.returncode == 2
    assert f"no topic(s) {name} on the cluster; `donki kafka topics list` shows what there is" in missing.err + \
        missing.out


@RUNNERS
def test_status_is_a_readable_table(run, env):
    done = run("kafka", "status", env=env)
    assert done.returncode == 0
    lines = {line.split()[0]: line for line in done.out.splitlines() if line.strip()}
    assert set(lines) >= {"Java", "Maven", "Kafka", "cache", "KAFKA_HOME", "Docker", "cluster"}
    assert f"{env['DONKI_BOOTSTRAP']}: up, 1 of 1 broker(s) registered" in lines["cluster"]
    assert "None" not in done.out and "{" not in done.out


@RUNNERS
def test_an_unreachable_bootstrap_fails_fast_with_a_cli_hint(run):
    port = free_ports(1)[0]
    for args in (("run", "e-mixed", "-b", f"127.0.0.1:{port}"), ("record", "-t", "x", "-o", "/tmp/never.h5",
                                                                 "-b", f"127.0.0.1:{port}")):
        started = time.monotonic()
        done = run(*args)
        assert time.monotonic() - started < 3 + 1.5  # < 3 s plus the interpreter's start on a loaded machine
        assert done.returncode == 2
        error = [line for line in (done.err or done.out).splitlines() if "error:" in line]
        assert len(error) == 1 and f"no Kafka broker answered at 127.0.0.1:{port} (--bootstrap)" in error[0]
        assert "donki kafka start --port 9092" in error[0] and "--donki" not in error[0]


def test_record_waits_for_a_topic_the_producer_creates(env, donki_kafka, tmp_path):
    name = "ux_wait_for_me"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "record", "-t", name, "-o", str(tmp_path / "w.h5"),
                             "--wait-for-topic", "60s", "--count", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**_plain_env(), **env})
    try:
        waiting = proc.stderr.readline()  # the recorder says so before the topic exists (start-up may be slow)
        assert f"waiting for topic(s) {name} to be created" in waiting, waiting + proc.stderr.read()
        time.sleep(1)
        assert proc.poll() is None, proc.stderr.read()
        from harness.kafka import TopicSpec

        TopicAdmin(donki_kafka.client_config).create([TopicSpec(name)])
        producer = make_producer(donki_kafka.client_config)
        producer.produce(name, b"late")
        producer.flush(10)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "1 messages" in out and "stopped: message count" in out


def _plain_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "DONKI_BOOTSTRAP"}


def test_run_shows_live_progress_in_a_terminal(env):
    done = in_terminal("run", "e-mixed", "--triggers", "20", env=env, timeout=180)
    assert done.returncode == 0, done.out
    assert "\x1b[" in done.raw  # drawn by rich: colours and cursor movement
    progress = [line for line in done.out.splitlines() if line.startswith("donki run elapsed s")]
    assert progress and "triggers 20" in progress[-1] and "messages 80" in progress[-1] and "lag 0" in progress[-1]
    assert any(line.split()[:3] == ["e-mixed", "e-mixed", "80"] and line.split()[-1] == "ok"
               for line in done.out.splitlines())


def test_run_progress_is_plain_lines_in_a_pipe(env):
    done = in_pipe("run", "e-mixed", "--triggers", "20", env=env, timeout=180)
    assert done.returncode == 0, done.err
    assert not ANSI.search(done.out + done.err)
    last = [line for line in done.err.splitlines() if line.startswith("donki run: elapsed s")][-1]
    figures = dict(part.rsplit(" ", 1) for part in last.removeprefix("donki run: ").split(" · "))
    assert figures["triggers"] == "20" and figures["messages"] == "80" and figures["lag"] == "0"
    assert float(figures["MB"]) > 0
    assert "run e-mixed: OK" in done.out


SLOW = """
[scenario]
name = "too-slow"
rate = 20.0
triggers = 20

[[players]]
name = "a"
stream = "a-scalar"
topic = "t_slow"

[players.faults]
delay_s = 0.15  # each trigger takes 0.15 s: at most 6.7 of the 20 Hz asked for
"""


def test_a_slow_run_names_ignore_rates(env, tmp_path):
    (tmp_path / "slow.toml").write_text(SLOW)
    done = in_pipe("run", str(tmp_path / "slow.toml"), "--no-progress", env=env, timeout=180)
    assert done.returncode == 1, done.out + done.err
    assert "COMPLETE BUT SLOW" in done.out
    assert "donki: SLOW: nothing was lost but rates were missed (see the table); on a loaded machine, pass " \
           "--ignore-rates to exit 0 for a complete run" in done.err
    again = in_pipe("run", str(tmp_path / "slow.toml"), "--no-progress", "--ignore-rates", env=env, timeout=180)
    assert again.returncode == 0 and "SLOW" not in again.err


def test_replay_shows_progress_and_missing_targets_name_the_topics_command(env, donki_kafka, tmp_path):
    from harness.kafka import TopicSpec

    name = "ux_replay_src"
    TopicAdmin(donki_kafka.client_config).create([TopicSpec(name)], exist_ok=True)
    producer = make_producer(donki_kafka.client_config)
    for i in range(50):
        producer.produce(name, b"x" * 1000, timestamp=1_700_000_000_000 + i)
    producer.flush(10)
    assert in_pipe("record", "-t", name, "-o", str(tmp_path / "r.h5"), "--until-end", "-q", env=env).returncode == 0
    done = in_pipe("replay", str(tmp_path / "r.h5"), "--fast", "--map", f"{name}=ux_replay_dst", env=env)
    assert done.returncode == 2
    assert "create it (`donki kafka topics create ux_replay_dst --partitions 1`) or remap it" in done.err
    assert in_pipe("kafka", "topics", "create", "ux_replay_dst", env=env).returncode == 0
    done = in_pipe("replay", str(tmp_path / "r.h5"), "--fast", "--map", f"{name}=ux_replay_dst", env=env)
    assert done.returncode == 0, done.err
    last = [line for line in done.err.splitlines() if line.startswith("donki replay: elapsed s")][-1]
    assert "messages 50 · of 50 · MB 0.05 · failed 0" in last


def test_record_shows_live_progress_in_a_terminal(env, donki_kafka, tmp_path):
    from harness.kafka import TopicSpec

    name = "ux_record_progress"
    TopicAdmin(donki_kafka.client_config).create([TopicSpec(name)], exist_ok=True)
    producer = make_producer(donki_kafka.client_config)
    for _ in range(30):
        producer.produce(name, b"y" * 2000)
    producer.flush(10)
    done = in_terminal("record", "-t", name, "-o", str(tmp_path / "p.h5"), "--count", "30", env=env)
    assert done.returncode == 0, done.out
    assert "\x1b[" in done.raw
    progress = [line for line in done.out.splitlines() if line.startswith("donki record elapsed s")]
    assert progress and "messages 30" in progress[-1] and "MB 0.06" in progress[-1]
    assert "stopped: message count" in done.out


def test_kafka_start_on_a_port_prints_the_export_line_every_command_honours(tmp_path):
    import signal

    port = free_ports(1)[0]
    proc = subprocess.Popen([sys.executable, "-m", "harness", "kafka", "start", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_plain_env())
    try:
        lines = [proc.stdout.readline().strip() for _ in range(2)]
        assert lines == [f"bootstrap: 127.0.0.1:{port}", f"export DONKI_BOOTSTRAP=127.0.0.1:{port}"], \
            proc.stderr.read() if proc.poll() is not None else lines
        exported = dict([lines[1].removeprefix("export ").split("=", 1)])
        done = in_pipe("kafka", "topics", "create", "ux_exported", env=exported)
        assert done.returncode == 0 and done.out.strip() == "ux_exported", done.err
        assert "ux_exported" in TopicAdmin({"bootstrap.servers": f"127.0.0.1:{port}"}).list()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
