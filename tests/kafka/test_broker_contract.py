"""What any broker the harness starts must do, pinned for the local and the container provider alike.

ESS habits the harness relies on: topics are created explicitly (auto-create off), messages of
100 MB and more pass, data is kept forever and old timestamps are accepted (goldens replay old
data times), headers, keys and timestamps arrive as sent; a broker stops cleanly and one that
dies while starting is reported with the tail of its log.
"""

from __future__ import annotations

import os
import socket

import pytest

from harness.errors import BrokerStartError
from harness.kafka import ContainerKafka, LocalKafka, TopicAdmin, TopicSpec, make_producer
from harness.kafka.clients import consume
from harness.kafka.provider import Broker

PROVIDERS = ["local", "container"]
BIG = 100 * 1024 * 1024  # ESS area detector frames reach 300 MB; 100 MB is the floor we pin
OLD_TIMESTAMP_MS = 1_000_000_000_000  # 2001: far older than Kafka's default 7-day retention


def make(provider: str, **options) -> Broker:
    return LocalKafka(**options) if provider == "local" else ContainerKafka(**options)


@pytest.fixture(params=PROVIDERS)
def provider(request) -> str:
    if request.param == "container":
        request.getfixturevalue("docker_required")
    return request.param


@pytest.fixture(scope="module", params=PROVIDERS)
def broker(request):
    if request.param == "container":
        request.getfixturevalue("docker_required")
    started = make(request.param).start()
    yield started
    started.stop()


def _closed(bootstrap: str) -> bool:
    host, _, port = bootstrap.rpartition(":")
    try:
        socket.create_connection((host, int(port)), 2).close()
    except OSError:
        return True
    return False


def test_topics_are_created_explicitly_and_never_by_a_producer(broker):
    admin = TopicAdmin(broker.client_config)
    admin.create([TopicSpec("dream_explicit", partitions=3)])
    assert admin.partitions("dream_explicit") == 3
    producer = make_producer(broker.client_config, **{"message.timeout.ms": 3000})
    errors = []
    producer.produce("dream_never_created", b"x", on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(10)
    assert errors and errors[0] is not None
    assert "dream_never_created" not in admin.list()


def test_headers_key_partition_and_timestamp_arrive_as_sent(broker):
    TopicAdmin(broker.client_config).create([TopicSpec("loki_contract", partitions=2)])
    producer = make_producer(broker.client_config)
    payload = bytes(range(256)) * 10
    producer.produce("loki_contract", payload, key=b"pixel-7", partition=1, timestamp=1_600_000_000_123,
                     headers=[("donki.seq", b"0"), ("donki.crc32", b"\x00\xff"), ("empty", None)])
    assert producer.flush(30) == 0
    [message] = consume(broker.client_config, "loki_contract", 1)
    assert (message.value(), message.key(), message.partition()) == (payload, b"pixel-7", 1)
    assert message.timestamp() == (1, 1_600_000_000_123)  # CreateTime, as produced
    assert message.headers() == [("donki.seq", b"0"), ("donki.crc32", b"\x00\xff"), ("empty", None)]


def test_a_100_mb_message_passes(broker):
    TopicAdmin(broker.client_config).create([TopicSpec("odin_contract_frames")])
    payload = os.urandom(1024 * 1024) * (BIG // (1024 * 1024))
    producer = make_producer(broker.client_config)
    producer.produce("odin_contract_frames", payload)
    assert producer.flush(120) == 0
    [message] = consume(broker.client_config, "odin_contract_frames", 1, 120)
    assert len(message.value()) == BIG and message.value() == payload


def test_retention_is_unlimited_and_old_data_times_are_kept(broker):
    from confluent_kafka.admin import AdminClient, ConfigResource

    TopicAdmin(broker.client_config).create([TopicSpec("bifrost_contract_golden")])
    producer = make_producer(broker.client_config)
    producer.produce("bifrost_contract_golden", b"from 2001", timestamp=OLD_TIMESTAMP_MS)
    assert producer.flush(30) == 0
    [message] = consume(broker.client_config, "bifrost_contract_golden", 1)
    assert message.timestamp() == (1, OLD_TIMESTAMP_MS)
    resource = ConfigResource("topic", "bifrost_contract_golden")
    admin = AdminClient(broker.client_config)
    configs = admin.describe_configs([resource])[resource].result(30)
    assert configs["retention.ms"].value == "-1"
    assert configs["retention.bytes"].value == "-1"


def _gone(broker: Broker, pids: list[int]) -> bool:
    """No process or container of ``broker`` is left."""
    if isinstance(broker, ContainerKafka):
        import docker

        client = docker.from_env()
        try:
            client.containers.get(broker.container_id)
        except docker.errors.NotFound:
            return True
        finally:
            client.close()
        return False
    from harness.procs import wait_until

    return wait_until(lambda: all(not os.path.exists(f"/proc/{pid}") for pid in pids), timeout_s=15)


def test_stop_shuts_the_broker_down_releases_everything_and_may_be_called_twice(provider):
    broker = make(provider).start()
    bootstrap = broker.bootstrap_servers
    pids = [node.child.pid for node in broker._nodes] if isinstance(broker, LocalKafka) else []
    assert broker.is_ready()
    broker.stop()
    assert _closed(bootstrap)
    assert not broker.started
    assert _gone(broker, pids)
    if isinstance(broker, ContainerKafka):  # SIGTERM, not a kill: Kafka logged its controlled shutdown
        assert "App info kafka.server for 1 unregistered" in broker.logs(tail=50)
    broker.stop()


def test_a_broker_that_dies_while_starting_is_reported_with_its_log_tail(provider):
    broker = make(provider, overrides={"message.max.bytes": "lots"})
    with pytest.raises(BrokerStartError) as info:
        broker.start()
    message = str(info.value)
    assert "exited with code" in message
    assert "message.max.bytes" in message  # Kafka's own ConfigException, from the log tail
    assert not broker.started
