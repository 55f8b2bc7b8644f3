"""The local KRaft provider against real broker processes.

What every provider must do (topics, big messages, retention, headers, stop, crash report)
is pinned for local and container alike in test_broker_contract.py; this file holds the rest.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from harness.errors import BrokerStartError, ConfigError
from harness.kafka import LocalKafka, TopicAdmin, TopicSpec, make_producer
from harness.kafka.clients import consume
from harness.procs import wait_until


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); it is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_start_and_stop_reap_every_process_and_remove_the_data(tmp_path):
    broker = LocalKafka()
    with broker:
        assert broker.is_ready()
        pids = [n.child.pid for n in broker._nodes]
        workdir = broker.workdir
        assert workdir.exists()
        assert "Kafka Server started" in broker.logs()
    assert not any(_pid_alive(pid) for pid in pids)
    assert not workdir.exists()
    broker.stop()  # twice is fine


def test_a_port_already_in_use_is_named_before_anything_starts():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        t0 = time.monotonic()
        with pytest.raises(BrokerStartError, match=f"127.0.0.1:{port} is already in use"):
            LocalKafka(port=port).start()
        assert time.monotonic() - t0 < 10


def test_unsupported_node_count_is_a_config_error():
    with pytest.raises(ConfigError, match="1 or 3 nodes"):
        LocalKafka(nodes=2)


def test_unknown_node_in_fault_injection_is_named():
    with pytest.raises(ConfigError, match="node 5 is not a node of this cluster"):
        LocalKafka().kill(5)


def test_brokers_die_with_a_killed_session(tmp_path):
    """A SIGKILLed test session (no atexit, no fixture teardown) leaves no JVM behind."""
    script = textwrap.dedent(
        """
        import sys, time
        from harness.kafka import LocalKafka
        broker = LocalKafka().start()
        print(broker._nodes[0].child.pid, flush=True)
        time.sleep(600)
        """
    )
    session = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        line = session.stdout.readline()
        assert line.strip().isdigit(), f"session did not start a broker: {line!r}"
        java_pid = int(line)
        assert _pid_alive(java_pid)
    finally:
        session.send_signal(signal.SIGKILL)
        session.wait(10)
    assert wait_until(lambda: not _pid_alive(java_pid), timeout_s=15), "broker outlived its killed session"


@pytest.mark.slow
def test_three_nodes_survive_a_killed_node_with_acks_all_and_lose_nothing():
    with LocalKafka(nodes=3) as cluster:
        TopicAdmin(cluster.client_config).create([TopicSpec("bifrost_events", partitions=3)])
        producer = make_producer(cluster.client_config, acks="all")
        failures = []

        def delivered(err, _msg):
            if err is not None:
                failures.append(err)

        for i in range(300):
            producer.produce("bifrost_events", f"before-{i}".encode(), on_delivery=delivered)
        assert producer.flush(60) == 0
        cluster.kill(2)
        assert not cluster.node_alive(2)
        for i in range(300):
            producer.produce("bifrost_events", f"after-{i}".encode(), on_delivery=delivered)
        assert producer.flush(90) == 0
        assert failures == []
        values = {m.value() for m in consume(cluster.client_config, "bifrost_events", 600, 90)}
        assert values == {f"before-{i}".encode() for i in range(300)} | {f"after-{i}".encode() for i in range(300)}
        cluster.restart(2)
        assert cluster.node_alive(2) and cluster.health().brokers == 3


@pytest.mark.slow
def test_restart_returns_when_the_node_serves_and_blames_only_the_node_restarted():
    from confluent_kafka.admin import AdminClient

    from harness.kafka.serving import node_lag

    with LocalKafka(nodes=3, heap="512m") as cluster:
        TopicAdmin(cluster.client_config).create([TopicSpec("bifrost_restart", partitions=3)])
        cluster.kill(2)
        cluster.kill(3)
        with pytest.raises(BrokerStartError) as caught:
            cluster.restart(2, timeout_s=0.5)  # too short to serve: the error names node 2
        assert "node 2" in str(caught.value) and "node 3" not in str(caught.value)
        cluster.restart(2)  # before: "Kafka node 3 exited with code -9 while starting"
        admin = AdminClient(cluster.client_config)
        assert node_lag(admin.list_topics(timeout=10), 2) == ""  # before: returned while the port was closed
        producer = make_producer(cluster.client_config, acks="all", **{"message.timeout.ms": 10000})
        failures = []
        for i in range(50):
            producer.produce("bifrost_restart", f"m{i}".encode(), on_delivery=lambda err, _m: failures.append(err))
        assert producer.flush(30) == 0 and failures == [None] * 50
        cluster.restart(3)
        assert node_lag(admin.list_topics(timeout=10), 3) == "" and cluster.health().brokers == 3
