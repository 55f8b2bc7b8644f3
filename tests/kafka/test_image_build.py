"""`donki kafka image build` against a real Docker daemon: cached by its inputs, tagged, labelled."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from harness.kafka.imagebase import BaseRecipe
from harness.kafka.imagebuild import image_inputs
from harness.kafka.images import LABEL_INPUTS, LABEL_KAFKA_VERSION, local_image
from harness.kafka.ports import free_ports
from harness.kafka.runtime import DEFAULT_KAFKA_VERSION

BUILD_TIMEOUT_S = 1200  # a cold build runs debootstrap: about a minute here, longer on a slow mirror
TEST_TAG = "pytest-donki/kafka:contract-test"


def donki(*args: str, timeout: float = BUILD_TIMEOUT_S, env: dict[str, str] | None = None):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, check=False,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def built(docker_required):
    """The default image, built (or found cached) once for this module."""
    result = donki("kafka", "image", "build")
    cannot = [why for why in ("needs `debootstrap`", "needs root") if why in result.stderr]
    if result.returncode != 0 and cannot:  # e.g. a laptop with Docker Desktop: it pulls apache/kafka instead
        pytest.skip(f"the Kafka image cannot be built here: {result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stderr
    return result


def test_the_build_says_what_it_does_and_names_the_image(built):
    assert built.stdout.startswith(f"{local_image()} (Apache Kafka {DEFAULT_KAFKA_VERSION}, inputs ")
    assert "donki: " in built.stderr  # progress lines on stderr, the result on stdout


def test_a_second_build_with_the_same_inputs_is_cached_and_quick(built):
    t0 = time.monotonic()
    again = donki("kafka", "image", "build")
    assert again.returncode == 0, again.stderr
    assert again.stdout.rstrip().endswith(": cached")
    assert "is up to date" in again.stderr
    assert time.monotonic() - t0 < 30


def test_another_tag_is_built_from_the_cached_base_with_version_and_inputs_labels(built):
    import docker

    client = docker.from_env()
    try:
        result = donki("kafka", "image", "build", "--tag", TEST_TAG)
        assert result.returncode == 0, result.stderr
        assert "base: pytest-donki/kafka-base:" in result.stderr and "(cached)" in result.stderr
        labels = client.images.get(TEST_TAG).labels
        assert labels[LABEL_KAFKA_VERSION] == DEFAULT_KAFKA_VERSION
        assert labels[LABEL_INPUTS] == client.images.get(local_image()).labels[LABEL_INPUTS]
    finally:
        client.images.remove(TEST_TAG, noprune=True)
        client.close()


def test_the_image_runs_as_appuser_and_holds_its_class_data_sharing_archive(built):
    import docker

    client = docker.from_env()
    try:
        probe = "id -un; test -s /opt/kafka/kafka.jsa && echo jsa"
        out = client.containers.run(local_image(), entrypoint=["sh", "-c", probe], remove=True)
    finally:
        client.close()
    assert out.decode().split() == ["appuser", "jsa"]


def test_inputs_change_with_the_kafka_version_the_jars_and_the_base(tmp_path):
    jar = tmp_path / "kafka_2.13-4.3.1.jar"
    jar.write_bytes(b"x")
    first = image_inputs("4.3.1", [jar], BaseRecipe())
    assert image_inputs("4.3.1", [jar], BaseRecipe()) == first
    assert image_inputs("4.2.0", [jar], BaseRecipe()) != first
    assert image_inputs("4.3.1", [jar], BaseRecipe(suite="trixie")) != first
    jar.write_bytes(b"xy")
    assert image_inputs("4.3.1", [jar], BaseRecipe()) != first


def test_a_bad_tag_is_a_usage_error_naming_it():
    result = donki("kafka", "image", "build", "--tag", "Not A Tag", timeout=60)
    assert result.returncode == 2
    assert "'Not A Tag' is not an image name like pytest-donki/kafka:4.3.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_daemon_the_build_says_how_to_get_one():
    env = {**os.environ, "DOCKER_HOST": f"tcp://127.0.0.1:{free_ports(1)[0]}"}
    result = donki("kafka", "image", "build", timeout=120, env=env)
    assert result.returncode == 2  # the CLI's exit for a DonkiError
    assert "no Docker daemon answers" in result.stderr and ".ci/docker-up" in result.stderr
    assert "Traceback" not in result.stderr
