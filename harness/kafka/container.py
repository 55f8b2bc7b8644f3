"""Kafka in a Docker container (testcontainers), from ``apache/kafka`` or the image built here.

The container's advertised listener must carry the host port Docker mapped, which is
known only after the container started. So the container waits for an environment file
that we write into it once the port is known, then execs the image's own start script
(``/etc/kafka/docker/run``: the official image's, or the one ``donki kafka image build``
installs, which keeps the same contract). Which image runs is decided by
:func:`harness.kafka.images.choose_image`. The usual testcontainers variables
(``DOCKER_HOST``, ``TESTCONTAINERS_HOST_OVERRIDE``, ``TESTCONTAINERS_RYUK_DISABLED``,
``TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX``...) apply.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from harness.errors import BrokerError, BrokerStartError
from harness.kafka.images import choose_image, image_labels, official_image, version_of
from harness.kafka.nodeconfig import ESS_BROKER_SETTINGS, cluster_settings
from harness.kafka.provider import Broker
from harness.kafka.readiness import wait_ready
from harness.kafka.runtime import DEFAULT_KAFKA_VERSION
from harness.kafka.storage import new_uuid

if TYPE_CHECKING:
    import docker
    from testcontainers.core.container import DockerContainer

__all__ = [
    "ContainerKafka",
    "ContainerSpec",
    "container_spec",
    "describe_container_image",
    "docker_available",
    "publish_on_loopback",
    "settings_to_env",
]

#: the official image of the one Kafka version every provider uses
DEFAULT_IMAGE = official_image(DEFAULT_KAFKA_VERSION)
CLIENT_PORT = 9092
ENV_FILE = "/tmp/donki-advertised.env"
START_SCRIPT = "/etc/kafka/docker/run"
START_TIMEOUT_S = 120.0
STOP_GRACE_S = 20.0
DOCKER_PING_TIMEOUT_S = 3
LOG_TAIL_LINES = 40
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


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


def container_spec(image: str | None = None, cluster_id: str | None = None,
                   overrides: Mapping[str, str] | None = None, heap: str | None = None) -> ContainerSpec:
    """The single-node KRaft container configuration with ESS broker settings.

    ``image`` defaults to ``$DONKI_KAFKA_IMAGE``, else the official image of the Kafka
    version every provider uses; :class:`ContainerKafka` may still prefer a local build.
    ``overrides`` are broker properties applied last; ``heap`` (or ``$DONKI_KAFKA_HEAP``)
    sets ``-Xmx``/``-Xms`` as for the local provider.
    """
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
        **(overrides or {}),
    }
    env = settings_to_env(settings)
    env["CLUSTER_ID"] = cluster_id or new_uuid()
    heap = heap or os.environ.get("DONKI_KAFKA_HEAP")
    if heap:
        env["KAFKA_HEAP_OPTS"] = f"-Xmx{heap} -Xms{heap}"
    wait_then_start = f"while [ ! -f {ENV_FILE} ]; do sleep 0.1; done; . {ENV_FILE}; exec {START_SCRIPT}"
    return ContainerSpec(
        image=choose_image(image),
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


def describe_container_image() -> str:
    """``<image> (Kafka <version>)`` as :class:`ContainerKafka` would choose it now, for report headers."""
    client = _client() if docker_available() else None
    try:
        image = choose_image(None, client)
        labels = image_labels(client, image) if client is not None else None
    finally:
        if client is not None:
            client.close()
    version = version_of(image, labels)
    held = "" if client is None or labels is not None else ", not in the daemon yet"
    return f"{image} (Kafka {version or 'version unknown'}{held})"


def publish_on_loopback() -> bool:
    """Publish the broker port on 127.0.0.1 only, where clients reach the daemon's host as loopback.

    True when ``TESTCONTAINERS_HOST_OVERRIDE`` (or ``TC_HOST``) names a loopback address, or
    when the daemon is local (no ``DOCKER_HOST`` or a unix socket) and we do not run inside a
    container ourselves (there testcontainers connects through a gateway address instead).
    """
    override = os.environ.get("TC_HOST") or os.environ.get("TESTCONTAINERS_HOST_OVERRIDE")
    if override:
        return override in _LOOPBACK
    docker_host = os.environ.get("DOCKER_HOST", "")
    return (not docker_host or docker_host.startswith("unix://")) and not os.path.exists("/.dockerenv")


def _client(timeout_s: int = DOCKER_PING_TIMEOUT_S) -> docker.DockerClient:
    import docker

    return docker.from_env(timeout=timeout_s)


class ContainerKafka(Broker):
    """A single-node KRaft broker in a Docker container (needs a Docker daemon).

    Parameters
    ----------
    image
        The image to run; default as :func:`harness.kafka.images.choose_image` decides:
        ``$DONKI_KAFKA_IMAGE``, else this version's local build when the daemon holds it,
        else the official ``apache/kafka:<version>``.
    start_timeout_s
        Deadline for the broker to serve after the container started.
    overrides
        Extra broker properties (as ``KAFKA_*`` variables).
    heap
        JVM heap (``-Xmx``), default ``$DONKI_KAFKA_HEAP`` or the image's 1G.
    """

    provider = "container"

    def __init__(self, image: str | None = None, start_timeout_s: float = START_TIMEOUT_S,
                 overrides: Mapping[str, str] | None = None, heap: str | None = None) -> None:
        super().__init__()
        self._explicit_image = image
        self.spec = container_spec(image, overrides=overrides, heap=heap)
        self._start_timeout_s = start_timeout_s
        self._container: DockerContainer | None = None
        self._bootstrap: str | None = None
        self._labels: Mapping[str, str] | None = None
        self._final_log = ""
        self.container_id: str | None = None  # kept after stop, to check that the container is gone

    @property
    def bootstrap_servers(self) -> str:
        if self._bootstrap is None:
            raise BrokerStartError("the Kafka container is not started; call start() first")
        return self._bootstrap

    @property
    def image(self) -> str:
        """The image this broker runs (final once :meth:`start` chose it)."""
        return self.spec.image

    @property
    def version(self) -> str | None:
        return version_of(self.spec.image, self._labels)

    def describe(self) -> str:
        version = f" Kafka {self.version}" if self.version else ""
        return f"{self.provider}{version} ({self.spec.image}) at {self.bootstrap_servers}"

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
                "none answered. Start Docker (as root here: .ci/docker-up), or use --donki-kafka=local."
            )
        self._choose_image()
        container = DockerContainer(self.spec.image).with_exposed_ports(*self.spec.ports)
        if publish_on_loopback():
            # docker-py reads (host_ip,) as "a random host port on host_ip"; testcontainers' annotation
            # of its port map knows only port numbers
            bindings = cast("dict[object, object]", container.ports)
            for port in self.spec.ports:
                bindings[port] = ("127.0.0.1",)
        container = container.with_kwargs(entrypoint=self.spec.entrypoint).with_command(self.spec.command)
        for key, value in self.spec.env.items():
            container = container.with_env(key, value)
        self._container = container
        try:
            self._run(container)
        except BaseException:
            self.stop()
            raise
        self._started = True
        return self

    def _choose_image(self) -> None:
        """Settle the image (a local build may win over the official one) and read its labels."""
        from dataclasses import replace

        client = _client(timeout_s=60)
        try:
            image = choose_image(self._explicit_image, client)
            self.spec = replace(self.spec, image=image)
            self._labels = image_labels(client, image)
        finally:
            client.close()

    def _run(self, container: DockerContainer) -> None:
        import docker.errors

        try:
            container.start()
        except docker.errors.DockerException as exc:
            if "ryuk" in str(exc).lower():
                raise BrokerError(
                    f"testcontainers could not get its Ryuk reaper image ({exc}); where no registry is reachable "
                    "set TESTCONTAINERS_RYUK_DISABLED=true (the provider stops its container itself)"
                ) from None
            raise BrokerError(
                f"could not start a container of image {self.spec.image}: {exc}. Where no registry is reachable, "
                "build the image here with `donki kafka image build` (used by default once built), or set "
                "DONKI_KAFKA_IMAGE to an image this Docker daemon holds."
            ) from None
        self.container_id = container.get_wrapped_container().id
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(CLIENT_PORT))
        env_file = self.spec.advertised_env_file(host, port)
        write = f"printf %s {shlex.quote(env_file)} > {ENV_FILE}.part && mv {ENV_FILE}.part {ENV_FILE}"
        container.exec(["sh", "-c", write])
        self._bootstrap = f"{host}:{port}"
        wait_ready(self._bootstrap, timeout_s=self._start_timeout_s, still_starting=self._still_running)

    def _still_running(self) -> None:
        """Raise with the log tail when the container exited while the broker was starting."""
        if self._container is None:
            return
        wrapped = self._container.get_wrapped_container()
        wrapped.reload()
        if wrapped.status in ("exited", "dead"):
            code = wrapped.attrs.get("State", {}).get("ExitCode")
            raise BrokerStartError(
                f"the Kafka container ({self.spec.image}) exited with code {code} while starting; "
                f"the end of its log:\n{self.logs(tail=LOG_TAIL_LINES)}"
            )

    def running(self) -> bool:
        """True while the container runs (False once it crashed or was stopped)."""
        if self._container is None:
            return False
        wrapped = self._container.get_wrapped_container()
        wrapped.reload()
        return bool(wrapped.status == "running")

    def stop(self) -> None:
        """Stop the broker with SIGTERM (a controlled shutdown), keep its log, remove the container."""
        import docker.errors
        from testcontainers.core.exceptions import ContainerStartException

        if self._container is not None:
            try:
                self._container.get_wrapped_container().stop(timeout=int(STOP_GRACE_S))
                self._final_log = self._read_log()
                self._container.stop()
            except (docker.errors.DockerException, ContainerStartException):
                pass  # never created, or already gone (removed by hand, daemon stopped): nothing to release
            self._container = None
        self._bootstrap = None
        self._started = False

    def _read_log(self) -> str:
        if self._container is None:
            return self._final_log
        out, err = self._container.get_logs()
        return (out + err).decode("utf-8", "replace")

    def logs(self, node: int | None = None, tail: int = 200) -> str:
        """The container's log tail; after :meth:`stop`, the log it ended with."""
        return "\n".join(self._read_log().splitlines()[-tail:])
