"""The base of the locally built Kafka image: Debian with OpenJDK 17, from Debian's packages.

No image registry is needed: ``debootstrap`` builds a Debian root filesystem from the
Debian archive (the same mirror ``apt-get`` uses), the result is packed into a tar in the
user cache, and ``docker import`` turns the tar into an image. Both steps are cached by
their inputs (suite, packages, recipe), so a fresh daemon with a warm cache only imports.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import ImageBuildError
from harness.kafka.runtime import cache_lock, cache_root

if TYPE_CHECKING:
    import docker

__all__ = ["BASE_REPOSITORY", "BaseRecipe", "ensure_base_image"]

BASE_REPOSITORY = "pytest-donki/kafka-base"
DEBOOTSTRAP_TIMEOUT_S = 1200.0
TAR_TIMEOUT_S = 600.0
APP_UID = 1000  # the official image's appuser
_DEFAULT_MIRROR = "http://deb.debian.org/debian"
# what the image needs besides minbase: Java for the broker; nothing else
_PACKAGES = ("openjdk-17-jre-headless",)
# run in the chroot after debootstrap; part of the cache key, so a change rebuilds the base
_FINISH = f"""set -eu
useradd --uid {APP_UID} --create-home --shell /bin/bash appuser
mkdir -p /opt/kafka/libs /opt/kafka/config /etc/kafka/docker /etc/kafka/secrets /var/lib/kafka/data /mnt/shared/config
chown -R appuser:appuser /opt/kafka /etc/kafka /var/lib/kafka /mnt/shared/config
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/* /var/log/*.log
"""


class BaseRecipe:
    """The inputs of the base image: Debian suite, mirror, packages and finishing steps."""

    def __init__(self, suite: str = "bookworm", mirror: str | None = None) -> None:
        self.suite = suite
        self.mirror = mirror or os.environ.get("DONKI_DEBIAN_MIRROR") or _DEFAULT_MIRROR
        self.packages = _PACKAGES

    @property
    def key(self) -> str:
        """Hash of what decides the content (the mirror does not)."""
        text = "\n".join([self.suite, *self.packages, _FINISH])
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def tag(self) -> str:
        return f"{BASE_REPOSITORY}:{self.suite}-jre17-{self.key}"

    @property
    def tar_path(self) -> Path:
        return cache_root() / "image" / f"base-{self.suite}-jre17-{self.key}.tar"


def _run(argv: list[str], what: str, timeout_s: float) -> None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ImageBuildError(f"{what} did not finish within {timeout_s:.0f} s: {' '.join(argv)}") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise ImageBuildError(f"{what} failed (exit {proc.returncode}): {' '.join(argv)}\n{tail}")


def _make_tar(recipe: BaseRecipe, log: Callable[[str], None]) -> Path:
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise ImageBuildError(
            "building the Kafka image's base needs `debootstrap` (Debian: `apt-get install debootstrap`); "
            "or use the official image with DONKI_KAFKA_IMAGE=apache/kafka:<version> where a registry is reachable"
        )
    if os.geteuid() != 0:
        raise ImageBuildError("building the Kafka image's base with debootstrap needs root (it makes a chroot)")
    recipe.tar_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=recipe.tar_path.parent) as tmp:
        rootfs = Path(tmp) / "rootfs"
        log(f"base: debootstrap {recipe.suite} (minbase + {', '.join(recipe.packages)}) from {recipe.mirror}")
        _run([debootstrap, "--variant=minbase", f"--include={','.join(recipe.packages)}", recipe.suite,
              str(rootfs), recipe.mirror], "debootstrap", DEBOOTSTRAP_TIMEOUT_S)
        log("base: adding appuser and the Kafka directories, dropping apt lists and docs")
        _run(["chroot", str(rootfs), "/bin/sh", "-c", _FINISH], "finishing the root filesystem", TAR_TIMEOUT_S)
        partial = recipe.tar_path.with_suffix(".part")
        log(f"base: packing the root filesystem into {recipe.tar_path}")
        _run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], "tar", TAR_TIMEOUT_S)
        partial.replace(recipe.tar_path)
    return recipe.tar_path


def ensure_base_image(client: docker.DockerClient, recipe: BaseRecipe, log: Callable[[str], None]) -> str:
    """The base image's tag, importing (and first building) it when the daemon lacks it."""
    import docker.errors

    try:
        client.images.get(recipe.tag)
        log(f"base: {recipe.tag} is in the daemon (cached)")
        return recipe.tag
    except docker.errors.ImageNotFound:
        pass
    with cache_lock():
        tar = recipe.tar_path
        if tar.exists():
            log(f"base: root filesystem cached in {tar}")
        else:
            tar = _make_tar(recipe, log)
        log(f"base: docker import {tar.name} ({tar.stat().st_size / 1e6:.0f} MB) as {recipe.tag}")
        repository, _, tag = recipe.tag.partition(":")
        try:
            client.api.import_image_from_file(str(tar), repository=repository, tag=tag)
        except docker.errors.APIError as exc:
            raise ImageBuildError(f"docker import of {tar} failed: {exc}") from None
    return recipe.tag
