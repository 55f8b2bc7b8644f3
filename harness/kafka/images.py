"""Which Docker image the container provider runs, and which Kafka version it holds.

One Kafka version for every provider: the official image's tag and the local build's tag
both come from :data:`harness.kafka.runtime.DEFAULT_KAFKA_VERSION` (or
``$DONKI_KAFKA_VERSION``), the version the local provider fetches. The choice, first
match wins: an explicit image argument, ``$DONKI_KAFKA_IMAGE``, the image that
``donki kafka image build`` made for this version when the daemon holds it, else the
official ``apache/kafka:<version>``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from harness.kafka.runtime import DEFAULT_KAFKA_VERSION

if TYPE_CHECKING:
    import docker

__all__ = [
    "LABEL_INPUTS",
    "LABEL_KAFKA_VERSION",
    "LOCAL_REPOSITORY",
    "OFFICIAL_REPOSITORY",
    "choose_image",
    "image_labels",
    "kafka_version",
    "local_image",
    "official_image",
    "version_of",
]

OFFICIAL_REPOSITORY = "apache/kafka"
LOCAL_REPOSITORY = "pytest-donki/kafka"
LABEL_KAFKA_VERSION = "org.pytest-donki.kafka-version"
LABEL_INPUTS = "org.pytest-donki.inputs"
_VERSION_TAG = re.compile(r"^\d+\.\d+\.\d+$")


def kafka_version() -> str:
    """The Kafka version every provider uses: ``$DONKI_KAFKA_VERSION`` or the built-in one."""
    return os.environ.get("DONKI_KAFKA_VERSION") or DEFAULT_KAFKA_VERSION


def official_image(version: str | None = None) -> str:
    """``apache/kafka:<version>``, the image a laptop with Docker pulls."""
    return f"{OFFICIAL_REPOSITORY}:{version or kafka_version()}"


def local_image(version: str | None = None) -> str:
    """``pytest-donki/kafka:<version>``, the image ``donki kafka image build`` makes."""
    return f"{LOCAL_REPOSITORY}:{version or kafka_version()}"


def image_labels(client: docker.DockerClient, image: str) -> Mapping[str, str] | None:
    """The labels of ``image`` in this daemon, or ``None`` when the daemon does not hold it."""
    import docker.errors

    try:
        return client.images.get(image).labels or {}
    except docker.errors.ImageNotFound:
        return None


def choose_image(explicit: str | None = None, client: docker.DockerClient | None = None) -> str:
    """The image to run (see the module docstring for the order).

    Parameters
    ----------
    explicit
        An image named by the caller; wins over everything.
    client
        A Docker client to ask whether the local build exists; without one the local
        build is not considered.
    """
    if explicit:
        return explicit
    from_env = os.environ.get("DONKI_KAFKA_IMAGE")
    if from_env:
        return from_env
    if client is not None and image_labels(client, local_image()) is not None:
        return local_image()
    return official_image()


def version_of(image: str, labels: Mapping[str, str] | None = None) -> str | None:
    """The Kafka version in ``image``: its label when built here, else a version-shaped tag."""
    if labels and labels.get(LABEL_KAFKA_VERSION):
        return labels[LABEL_KAFKA_VERSION]
    name, _, tag = image.rpartition(":")
    if "/" in tag or not name:  # a registry port, not a tag
        return None
    return tag if _VERSION_TAG.match(tag) else None
