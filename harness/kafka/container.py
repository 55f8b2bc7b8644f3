"""Kafka in a Docker container (testcontainers), with the official ``apache/kafka`` image.

The container's advertised listener must carry the host port Docker mapped, which is
known only after the container started. So the container waits for an environment file
that we write into it once the port is known, then execs the image's own start script.
The usual testcontainers variables (``DOCKER_HOST``, ``TESTCONTAINERS_HOST_OVERRIDE``,
``TESTCONTAINERS_RYUK_DISABLED``, ``TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX``...) apply.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harness.errors import BrokerError, BrokerStartError
from harness.kafka.nodeconfig import ESS_BROKER_SETTINGS, cluster_settings
from harness.kafka.provider import Broker
from harness.kafka.readiness import wait_ready
from harness.kafka.storage import new_uuid

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

__all__ = ["ContainerKafka", "ContainerSpec", "container_spec", "docker_available", "settings_to_env"]

DEFAULT_IMAGE = "apache/kafka:4.1.1"
CLIENT_PORT = 9092
ENV_FILE = "/tmp/donki-advertised.env"
START_SCRIPT = "/etc/kafka/docker/run"
START_TIMEOUT_S = 120.0
DOCKER_PING_TIMEOUT_S = 3


def settings_to_env(settings: dict[str, str]) -> dict[str, str]:
    """``message.max.bytes`` becomes ``KAFKA_MESSAGE_MAX_BYTES``, as the image expects."""
    return {"KAFKA_" + key.upper().replace(".", "_"): value for key, value in settings.items()}


@dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to create the container, decided before Docker is asked."""

    image: str
    env: dict[str, str]
    entrypoint: list[str]
    command: list[str]
    ports: list[int] = field(default_factory=lambda: [CLIENT_PORT])

    def advertised_env_file(self, host: str, port: int) -> str:
        listeners = f"PLAINTEXT://{host}:{port},BROKER://localhost:9093"
        return f"export KAFKA_ADVERTISED_LISTENERS={shlex.quote(listeners)}\n"


def container_spec(image: str | None = None, cluster_id: str | None = None) -> ContainerSpec:
    """The single-node KRaft container configuration with ESS broker settings."""
    settings = {
        "node.id": "1",
        "process.roles": "broker,controller",
        "listeners": f"PLAINTEXT://0.0.0.0:{CLIENT_PORT},BROKER://0.0.0.0:9093,CONTROLLER://0.0.0.0:9094",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "BROKER",
        "controller.quorum.voters": "1@localhost:9094",
        **ESS_BROKER_SETTINGS,
        **cluster_settings(1),
    }
    env = settings_to_env(settings)
    env["CLUSTER_ID"] = cluster_id or new_uuid()
    wait_then_start = f"while [ ! -f {ENV_FILE} ]; do sleep 0.1; done; . {ENV_FILE}; exec {START_SCRIPT}"
    return ContainerSpec(
        image=image or os.environ.get("DONKI_KAFKA_IMAGE") or DEFAULT_IMAGE,
        env=env,
        entrypoint=["sh", "-c"],
        command=[wait_then_start],
    )


DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"


def docker_available() -> bool:
    """True when a Docker daemon answers a ping (the ``auto`` provider asks this).

    Without ``DOCKER_HOST`` and without the default socket there is nothing to ping, and
    the Docker client (0.2 s to import) is not loaded: the report header asks this at every
    pytest start.
    """
    if not os.environ.get("DOCKER_HOST") and not os.path.exists(DEFAULT_DOCKER_SOCKET):
        return False
    try:
        import docker  # installed with testcontainers
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=DOCKER_PING_TIMEOUT_S)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - any failure means "no usable daemon"
        return False


class ContainerKafka(Broker):
    """A single-node KRaft broker in ``apache/kafka`` (needs a Docker daemon)."""

    provider = "container"

    def __init__(self, image: str | None = None, start_timeout_s: float = START_TIMEOUT_S) -> None:
        super().__init__()
        self.spec = container_spec(image)
        self._start_timeout_s = start_timeout_s
        self._container: DockerContainer | None = None
        self._bootstrap: str | None = None

    @property
    def bootstrap_servers(self) -> str:
        if self._bootstrap is None:
            raise BrokerStartError("the Kafka container is not started; call start() first")
        return self._bootstrap

    @property
    def version(self) -> str | None:
        return self.spec.image.rpartition(":")[2] or None

    def start(self) -> ContainerKafka:
        if self._started:
            return self
        try:
            from testcontainers.core.container import DockerContainer
        except ImportError:
            raise BrokerError(
                "the container provider needs testcontainers: pip install 'pytest-donki[container]'"
            ) from None
        if not docker_available():
            raise BrokerError(
                "the container provider needs a running Docker daemon (DOCKER_HOST or /var/run/docker.sock); "
                "none answered. Start Docker, or use --donki-kafka=local."
            )
        container = DockerContainer(self.spec.image).with_exposed_ports(*self.spec.ports)
        container = container.with_kwargs(entrypoint=self.spec.entrypoint).with_command(self.spec.command)
        for key, value in self.spec.env.items():
            container = container.with_env(key, value)
        self._container = container.start()
        try:
            host = container.get_container_host_ip()
            port = int(container.get_exposed_port(CLIENT_PORT))
            env_file = self.spec.advertised_env_file(host, port)
            write_env = f"printf %s {shlex.quote(env_file)} > {ENV_FILE}.part && mv {ENV_FILE}.part {ENV_FILE}"
            container.exec(["sh", "-c", write_env])
            self._bootstrap = f"{host}:{port}"
            wait_ready(self._bootstrap, timeout_s=self._start_timeout_s)
        except BaseException:
            self.stop()
            raise
        self._started = True
        return self

    def stop(self) -> None:
        if self._container is not None:
            self._container.stop()
            self._container = None
        self._bootstrap = None
        self._started = False

    def logs(self, node: int | None = None, tail: int = 200) -> str:
        if self._container is None:
            return ""
        out, err = self._container.get_logs()
        return "\n".join((out + err).decode("utf-8", "replace").splitlines()[-tail:])
