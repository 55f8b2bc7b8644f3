"""``donki kafka image build``: a Kafka image made here, for the container provider.

Where no image registry is reachable, ``apache/kafka`` cannot be pulled; this builds an
image with the same start contract from what the package registries give: the Debian base
of :mod:`harness.kafka.imagebase`, the Apache Kafka jars the local provider resolved with
Maven, and the project's start script ``data/image/run``. The image carries its Kafka
version and a hash of its inputs as labels; a build whose inputs match the image the daemon
already holds does nothing.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import ImageBuildError
from harness.kafka.imagebase import APP_UID, BaseRecipe, ensure_base_image
from harness.kafka.images import LABEL_INPUTS, LABEL_KAFKA_VERSION, image_labels, kafka_version, local_image

if TYPE_CHECKING:
    import docker

    from harness.kafka.runtime import KafkaRuntime

__all__ = ["BuiltImage", "build_image", "docker_client", "image_inputs"]

BUILD_TIMEOUT_S = 900
_DOCKERFILE = """FROM {base}
COPY --chown={uid}:{uid} libs/ /opt/kafka/libs/
COPY --chown={uid}:{uid} docker/ /etc/kafka/docker/
USER appuser
RUN /etc/kafka/docker/make-cds
WORKDIR /home/appuser
EXPOSE 9092
CMD ["/etc/kafka/docker/run"]
"""
_EXECUTABLES = ("image/run", "image/make-cds")
# files of data/image copied to /etc/kafka/docker, and the broker log configuration beside them
_SCRIPT_FILES = ("image/run", "image/make-cds", "image/server.properties", "log4j2.properties")


@dataclass(frozen=True)
class BuiltImage:
    """The outcome of :func:`build_image`."""

    tag: str
    kafka_version: str
    inputs: str
    cached: bool
    seconds: float


def docker_client(timeout_s: int = BUILD_TIMEOUT_S) -> docker.DockerClient:
    """A Docker client from the environment, or an error that says how to get a daemon."""
    try:
        import docker
    except ImportError:
        raise ImageBuildError(
            "building the Kafka image needs the Docker SDK: pip install 'pytest-donki[container]'"
        ) from None
    try:
        client = docker.from_env(timeout=timeout_s)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - the SDK raises many kinds for "no daemon"
        raise ImageBuildError(
            f"no Docker daemon answers ({type(exc).__name__}); start one (as root: .ci/docker-up) "
            "or set DOCKER_HOST"
        ) from None
    return client


def _data(name: str) -> bytes:
    return resources.files("harness.kafka").joinpath(f"data/{name}").read_bytes()


def _jars(runtime: KafkaRuntime) -> list[Path]:
    jars = sorted(runtime.libs.glob("*.jar"))
    if not jars:
        raise ImageBuildError(f"no jars in {runtime.libs}; run `donki kafka fetch --force`")
    return jars


def image_inputs(version: str, jars: list[Path], recipe: BaseRecipe) -> str:
    """Hash of everything the image is made of: version, jars, scripts, Dockerfile, base."""
    digest = hashlib.sha256()
    for part in (version, recipe.tag, _DOCKERFILE):
        digest.update(part.encode() + b"\0")
    for jar in jars:
        digest.update(f"{jar.name}:{jar.stat().st_size}\0".encode())
    for name in _SCRIPT_FILES:
        digest.update(name.encode() + b"\0" + _data(name) + b"\0")
    return digest.hexdigest()[:16]


def _context(base: str, version: str, jars: list[Path]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:

        def add_bytes(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))

        add_bytes("Dockerfile", _DOCKERFILE.format(base=base, uid=APP_UID).encode())
        for name in _SCRIPT_FILES:
            add_bytes(f"docker/{Path(name).name}", _data(name), 0o755 if name in _EXECUTABLES else 0o644)
        add_bytes("docker/kafka-version", f"{version}\n".encode())
        for jar in jars:
            tar.add(str(jar), arcname=f"libs/{jar.name}")
    buffer.seek(0)
    return buffer


def _docker_build(client: docker.DockerClient, context: io.BytesIO, tag: str, labels: dict[str, str],
                  log: Callable[[str], None]) -> None:
    import docker.errors

    try:
        for chunk in client.api.build(fileobj=context, custom_context=True, tag=tag, labels=labels, rm=True,
                                      forcerm=True, decode=True, timeout=BUILD_TIMEOUT_S):
            if "error" in chunk:
                raise ImageBuildError(f"docker build of {tag} failed: {chunk['error'].strip()}")
            line = str(chunk.get("stream", "")).strip()
            if line.startswith(("Step ", "Successfully", "make-cds:")):
                log(f"build: {line}")
    except docker.errors.APIError as exc:
        raise ImageBuildError(f"docker build of {tag} failed: {exc}") from None


def _drop_replaced(client: docker.DockerClient, previous: str | None, tag: str, log: Callable[[str], None]) -> None:
    """Remove the image ``tag`` named before this build, now untagged, unless a container still uses it."""
    import docker.errors

    if previous is None or client.images.get(tag).id == previous:
        return
    try:
        client.images.remove(previous)
        log(f"removed the replaced image {previous[:19]}")
    except docker.errors.APIError:
        pass  # still tagged elsewhere or used by a container: leave it


def build_image(
    tag: str | None = None,
    version: str | None = None,
    *,
    force: bool = False,
    log: Callable[[str], None] = lambda _msg: None,
    client: docker.DockerClient | None = None,
) -> BuiltImage:
    """Build the Kafka image ``tag`` (default ``pytest-donki/kafka:<version>``) unless cached.

    Parameters
    ----------
    tag
        Image name and tag to build.
    version
        Apache Kafka version (default: the one every provider uses).
    force
        Build even when the daemon holds an image with the same inputs.
    log
        Receives one line per step.
    client
        A Docker client; default from the environment.
    """
    from harness.kafka.runtime import fetch_runtime

    t0 = time.monotonic()
    version = version or kafka_version()
    tag = tag or local_image(version)
    client = client or docker_client()
    runtime = fetch_runtime(version, log=log)
    jars = _jars(runtime)
    recipe = BaseRecipe()
    inputs = image_inputs(version, jars, recipe)
    labels = image_labels(client, tag)
    if not force and labels is not None and labels.get(LABEL_INPUTS) == inputs:
        log(f"{tag} is up to date (inputs {inputs}); nothing to build")
        return BuiltImage(tag, version, inputs, True, time.monotonic() - t0)
    why = "forced" if force else "not in the daemon" if labels is None else "its inputs changed"
    log(f"building {tag}: Apache Kafka {version}, {len(jars)} jars from {runtime.source} ({why}, inputs {inputs})")
    previous = client.images.get(tag).id if labels is not None else None
    base = ensure_base_image(client, recipe, log)
    context = _context(base, version, jars)
    _docker_build(client, context, tag, {LABEL_KAFKA_VERSION: version, LABEL_INPUTS: inputs}, log)
    _drop_replaced(client, previous, tag, log)
    seconds = time.monotonic() - t0
    log(f"built {tag} in {seconds:.0f} s")
    return BuiltImage(tag, version, inputs, False, seconds)
