"""External and container providers, and the `auto` choice between providers."""

from __future__ import annotations

import time

import pytest

from harness.errors import BrokerError, BrokerUnreachableError, ConfigError
from harness.kafka import ContainerKafka, ExternalKafka, LocalKafka, docker_available, make_broker
from harness.kafka.container import (
    DEFAULT_IMAGE,
    ENV_FILE,
    container_spec,
    describe_container_image,
    publish_on_loopback,
)
from harness.kafka.external import parse_bootstrap, security_from_env
from harness.kafka.images import (
    LABEL_KAFKA_VERSION,
    choose_image,
    image_labels,
    local_image,
    official_image,
    version_of,
)
from harness.kafka.ports import free_ports
from harness.kafka.runtime import DEFAULT_KAFKA_VERSION


@pytest.fixture()
def no_docker(monkeypatch):
    """Point the Docker client at a closed port, so 'no daemon' holds on any machine."""
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_ports(1)[0]}")


# -- external --------------------------------------------------------------------------

def test_external_uses_an_existing_cluster(donki_kafka):
    broker = ExternalKafka(donki_kafka.bootstrap_servers)
    with broker:
        assert broker.health().ok
        assert broker.describe().startswith("external at ")


def test_unreachable_bootstrap_fails_within_its_deadline_naming_the_address():
    port = free_ports(1)[0]
    t0 = time.monotonic()
    with pytest.raises(BrokerUnreachableError) as info:
        ExternalKafka(f"127.0.0.1:{port}", connect_timeout_s=2).start()
    assert time.monotonic() - t0 < 10
    assert f"127.0.0.1:{port}" in str(info.value) and "--donki-bootstrap" in str(info.value)


@pytest.mark.parametrize("bad", ["", "localhost", "host:0", "host:99999", "a b:9092", "host:9092,"])
def test_malformed_bootstrap_is_a_config_error(bad):
    if bad == "host:9092,":  # a trailing comma is harmless
        assert parse_bootstrap(bad) == "host:9092"
        return
    with pytest.raises(ConfigError, match="HOST:PORT"):
        ExternalKafka(bad)


def test_security_settings_pass_through_to_every_client():
    broker = ExternalKafka("kafka.example:9093", security={"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"})
    assert broker.client_config == {
        "bootstrap.servers": "kafka.example:9093", "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
    }


def test_unknown_security_setting_is_refused():
    with pytest.raises(ConfigError, match="unknown client security setting"):
        ExternalKafka("kafka.example:9093", security={"sasl.pasword": "typo"})


def test_security_settings_come_from_the_environment():
    env = {"DONKI_KAFKA_SECURITY_PROTOCOL": "SSL", "DONKI_KAFKA_SSL_CA_LOCATION": "/etc/ca.pem", "OTHER": "x"}
    assert security_from_env(env) == {"security.protocol": "SSL", "ssl.ca.location": "/etc/ca.pem"}


# -- container -------------------------------------------------------------------------

def test_container_spec_is_kraft_with_ess_settings(monkeypatch):
    monkeypatch.delenv("DONKI_KAFKA_IMAGE", raising=False)
    spec = container_spec(cluster_id="AAAAAAAAAAAAAAAAAAAAAA")
    assert spec.image.startswith("apache/kafka:4.")
    assert spec.env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert spec.env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert int(spec.env["KAFKA_MESSAGE_MAX_BYTES"]) >= 100 * 1024 * 1024
    assert spec.env["KAFKA_LOG_RETENTION_MS"] == "-1"
    assert spec.env["CLUSTER_ID"] == "AAAAAAAAAAAAAAAAAAAAAA"
    assert "KAFKA_ADVERTISED_LISTENERS" not in spec.env  # only known once the port is mapped
    assert ENV_FILE in spec.command[0] and spec.command[0].endswith("exec /etc/kafka/docker/run")


def test_container_advertises_the_mapped_host_port():
    text = container_spec().advertised_env_file("10.0.0.5", 32771)
    assert text == "export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://10.0.0.5:32771,BROKER://localhost:9093\n"


def test_container_image_can_be_overridden(monkeypatch):
    monkeypatch.setenv("DONKI_KAFKA_IMAGE", "registry.example/apache/kafka:4.0.0")
    assert container_spec().image == "registry.example/apache/kafka:4.0.0"


def test_container_without_docker_says_so(no_docker):
    assert not docker_available()
    with pytest.raises(BrokerError, match="needs a running Docker daemon"):
        ContainerKafka().start()


def test_default_image_is_the_official_image_of_the_local_providers_kafka_version(monkeypatch):
    monkeypatch.delenv("DONKI_KAFKA_IMAGE", raising=False)
    monkeypatch.delenv("DONKI_KAFKA_VERSION", raising=False)
    assert container_spec().image == f"apache/kafka:{DEFAULT_KAFKA_VERSION}" == DEFAULT_IMAGE
    monkeypatch.setenv("DONKI_KAFKA_VERSION", "4.2.0")  # one setting moves both providers
    assert container_spec().image == "apache/kafka:4.2.0"
    assert local_image() == "pytest-donki/kafka:4.2.0"


@pytest.mark.parametrize("image, labels, version", [
    ("apache/kafka:4.3.1", None, "4.3.1"),
    ("registry.example:5000/apache/kafka:4.0.0", None, "4.0.0"),
    ("registry.example:5000/kafka", None, None),  # a port, not a tag
    ("apache/kafka:latest", None, None),
    ("my/kafka:ci", {LABEL_KAFKA_VERSION: "4.3.1"}, "4.3.1"),  # built here: the label knows
])
def test_the_kafka_version_of_an_image(image, labels, version):
    assert version_of(image, labels) == version


@pytest.mark.parametrize("env, loopback", [
    ({"TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1"}, True),
    ({"TC_HOST": "localhost"}, True),
    ({"TESTCONTAINERS_HOST_OVERRIDE": "docker.example"}, False),
    ({"DOCKER_HOST": "tcp://docker.example:2375"}, False),
])
def test_the_broker_port_is_published_on_loopback_only_where_clients_use_loopback(monkeypatch, env, loopback):
    for name in ("TC_HOST", "TESTCONTAINERS_HOST_OVERRIDE", "DOCKER_HOST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert publish_on_loopback() is loopback


def test_a_local_build_of_the_same_version_is_preferred_when_the_daemon_holds_it(docker_required, monkeypatch):
    import docker

    monkeypatch.delenv("DONKI_KAFKA_IMAGE", raising=False)
    client = docker.from_env()
    try:
        held = image_labels(client, local_image()) is not None
        assert choose_image(None, client) == (local_image() if held else official_image())
        assert choose_image("my/kafka:1", client) == "my/kafka:1"
        monkeypatch.setenv("DONKI_KAFKA_IMAGE", "other/kafka:2")
        assert choose_image(None, client) == "other/kafka:2"
    finally:
        client.close()


def test_auto_with_docker_is_the_container_provider(docker_required):
    assert isinstance(make_broker("auto"), ContainerKafka)


def test_an_image_that_cannot_be_had_is_named_with_the_way_out(docker_required):
    broker = ContainerKafka("pytest-donki/never-built:0.0.0", start_timeout_s=30)
    t0 = time.monotonic()
    with pytest.raises(BrokerError) as info:
        broker.start()
    assert time.monotonic() - t0 < 60
    message = str(info.value)
    assert "pytest-donki/never-built:0.0.0" in message
    assert "donki kafka image build" in message and "DONKI_KAFKA_IMAGE" in message
    assert not broker.started


def test_report_header_names_the_image_and_its_kafka_version(docker_required, monkeypatch):
    monkeypatch.setenv("DONKI_KAFKA_IMAGE", f"apache/kafka:{DEFAULT_KAFKA_VERSION}")
    assert describe_container_image().startswith(f"apache/kafka:{DEFAULT_KAFKA_VERSION} (Kafka {DEFAULT_KAFKA_VERSION}")


# -- auto and the factory -----------------------------------------------------------------

def test_unknown_provider_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown Kafka provider 'zookeeper'; expected one of: auto, local"):
        make_broker("zookeeper")


def test_external_without_bootstrap_says_which_setting_is_missing():
    with pytest.raises(ConfigError, match="--donki-bootstrap"):
        make_broker("external")


def test_auto_prefers_a_configured_bootstrap_address():
    assert isinstance(make_broker("auto", bootstrap="127.0.0.1:9092"), ExternalKafka)


def test_auto_without_bootstrap_or_docker_is_local(no_docker):
    assert isinstance(make_broker("auto"), LocalKafka)


def test_auto_with_nothing_available_says_what_to_install(no_docker, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    monkeypatch.setenv("DONKI_KAFKA_CACHE", str(tmp_path / "cache"))
    with pytest.raises(BrokerError) as info:
        make_broker("auto")
    message = str(info.value)
    assert "no bootstrap address is set" in message and "no Docker daemon" in message
    assert "Java 17+" in message and "openjdk-17" in message


def test_no_docker_host_and_no_socket_means_no_docker_without_a_ping(monkeypatch, tmp_path):
    from harness.kafka import container

    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(container, "DEFAULT_DOCKER_SOCKET", str(tmp_path / "no-docker.sock"))
    t0 = time.monotonic()
    assert container.docker_available() is False
    assert time.monotonic() - t0 < 1.0  # a ping would wait up to DOCKER_PING_TIMEOUT_S (3 s)
