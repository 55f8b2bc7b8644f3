"""A broker that dies is reported within seconds, by name, as one line: never a long wait or a traceback.

These tests SIGKILL a broker of their own (never the session's) and start it again
afterwards, so the module shares one single-node cluster.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from harness.errors import BrokerLostError, TopicError
from harness.kafka import LocalKafka, TopicAdmin, TopicSpec
from harness.kafka.brokerwatch import BrokerWatch
from harness.kafka.ports import free_ports
from harness.streams import ScalarGenerator, StreamPublisher

T0 = 1_600_000_000_000_000_000
GRACE_S = 3.0


@pytest.fixture(scope="module")
def own_kafka():
    with LocalKafka() as cluster:
        yield cluster


@pytest.fixture
def serving_kafka(own_kafka):
    """The module's broker, started again if a previous test killed it."""
    if not own_kafka.node_alive(1):
        own_kafka.restart(1)
    return own_kafka


def test_topic_error_always_carries_the_reason():
    [port] = free_ports(1)
    admin = TopicAdmin({"bootstrap.servers": f"127.0.0.1:{port}"}, timeout_s=1.0)
    with pytest.raises(TopicError) as caught:
        admin.create([TopicSpec("donki_reason")])
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message
    reason = message.split(": ", 1)[1]
    assert reason.strip(), f"no reason after the colon: {message!r}"


def test_watch_declares_loss_only_after_the_grace_and_names_the_broker():
    [port] = free_ports(1)
    watch = BrokerWatch(f"127.0.0.1:{port}", grace_s=1.5, interval_s=0.2)
    lost = []
    started = time.monotonic()
    with watch.start(on_lost=lost.append):
        assert watch.lost() is None  # not before the grace
        deadline = time.monotonic() + 10
        while not lost and time.monotonic() < deadline:
            time.sleep(0.05)
    took = time.monotonic() - started
    assert lost and isinstance(lost[0], BrokerLostError), "the watch never reported the dead address"
    assert 1.5 <= took < 5, took
    assert f"127.0.0.1:{port}" in str(lost[0]) and "\n" not in str(lost[0])


def test_watch_over_a_serving_cluster_stays_quiet(serving_kafka):
    lost = []
    with BrokerWatch(serving_kafka.bootstrap_servers, grace_s=0.5, interval_s=0.2).start(lost.append) as watch:
        time.sleep(1.5)
        assert watch.lost() is None and not watch.suspect
    assert lost == []


def test_delivery_wait_ends_with_broker_lost_soon_after_the_broker_dies(serving_kafka):
    TopicAdmin(serving_kafka.client_config).create([TopicSpec("donki_lossy")], exist_ok=True)
    publisher = StreamPublisher(serving_kafka.client_config, "donki_lossy", "a-scalar", broker_grace_s=GRACE_S)
    generator = ScalarGenerator(seed=1, rate_hz=10.0, per_trigger=3)
    publisher.publish(1, generator.messages(1, T0))
    assert publisher.wait_delivered(1, 30.0).delivered == 3
    serving_kafka.kill(1)
    publisher.publish(2, generator.messages(2, T0 + 100_000_000))
    started = time.monotonic()
    with pytest.raises(BrokerLostError) as caught:
        publisher.wait_delivered(2, 120.0)  # before: waited all 120 s, then acked the trigger anyway
    took = time.monotonic() - started
    assert took < GRACE_S + 5, f"the loss took {took:.1f} s to be noticed"
    assert serving_kafka.bootstrap_servers in str(caught.value)
    started = time.monotonic()
    with pytest.raises(BrokerLostError):
        publisher.close(60.0)  # teardown's flush does not wait for a broker that is gone either
    assert time.monotonic() - started < 2


def test_donki_run_with_its_broker_killed_ends_within_seconds_with_one_line(serving_kafka, tmp_path):
    command = [sys.executable, "-m", "harness", "run", "e-mixed", "-b", serving_kafka.bootstrap_servers,
               "--duration", "120"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    err = tmp_path / "stderr.txt"
    with open(err, "w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, env=env, text=True)
        try:
            _wait_for_text(err, "joined the director", 90)
            time.sleep(2.0)
            serving_kafka.kill(1)
            killed = time.monotonic()
            out, _ = process.communicate(timeout=60)  # before: 238 s and a KafkaException traceback
            took = time.monotonic() - killed
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    text = err.read_text()
    assert process.returncode not in (0, None)
    assert "Traceback" not in text and "Traceback" not in out
    lines = [line for line in text.splitlines() if "lost" in line]
    assert len(lines) == 1 and serving_kafka.bootstrap_servers in lines[0], text
    assert took < 20, f"donki run took {took:.1f} s after the broker died"


def _wait_for_text(path, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in path.read_text():
        assert time.monotonic() < deadline, f"{text!r} not seen within {timeout_s} s:\n{path.read_text()}"
        time.sleep(0.1)
