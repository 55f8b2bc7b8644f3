"""The start script of the Kafka image built here keeps the official image's environment contract.

The script runs on the host (bash, ``DONKI_IMAGE_ROOT`` as its root, ``DONKI_DRY_RUN=1`` so it
prints the java command instead of running it). The oracle for the KAFKA_* mapping is Kafka's
own ``kafka.docker.KafkaDockerWrapper``, the code the official image runs, from the same jars.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from harness.kafka.runtime import locate_runtime

SCRIPT = Path(str(resources.files("harness.kafka").joinpath("data/image/run")))
DEFAULTS = SCRIPT.parent / "server.properties"
LOG4J = SCRIPT.parent.parent / "log4j2.properties"
CONTRACT_ENV = {
    "CLUSTER_ID": "AAAAAAAAAAAAAAAAAAAAAA",
    "KAFKA_NODE_ID": "1",
    "KAFKA_PROCESS_ROLES": "broker,controller",
    "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
    "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093",
    "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
    "KAFKA_MESSAGE_MAX_BYTES": "314572800",
    "KAFKA_LISTENER_NAME_INTERNAL_SSL___ENDPOINT__IDENTIFICATION__ALGORITHM": "",  # ___ is -, __ is _
    "KAFKA_HEAP_OPTS": "-Xmx512m -Xms512m",  # a JVM setting, never a property
    "KAFKA_OPTS": "-Dx=y",
    "KAFKA_LOG4J_ROOT_LOGLEVEL": "WARN",
}


def image_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc/kafka/docker").mkdir(parents=True)
    (root / "mnt/shared/config").mkdir(parents=True)
    shutil.copy(DEFAULTS, root / "etc/kafka/docker/server.properties")
    shutil.copy(LOG4J, root / "etc/kafka/docker/log4j2.properties")
    return root


def run_script(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "DONKI_IMAGE_ROOT": str(root), "DONKI_DRY_RUN": "1"}
    return subprocess.run(["bash", str(SCRIPT), *args], env={**base, **env}, capture_output=True, text=True,
                          check=False, timeout=60)


def properties(path: Path) -> set[str]:
    return {line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")}


def test_kafka_variables_become_the_properties_kafkas_own_docker_wrapper_makes(tmp_path):
    runtime = locate_runtime(fetch="never")
    env = {**CONTRACT_ENV, "KAFKA_LOG_DIRS": str(tmp_path / "data")}
    oracle = tmp_path / "oracle"
    for sub in ("defaults", "mounted", "final"):
        (oracle / sub).mkdir(parents=True)
    shutil.copy(DEFAULTS, oracle / "defaults/server.properties")
    wrapper = subprocess.run(
        [runtime.java, "-cp", runtime.classpath, "kafka.docker.KafkaDockerWrapper", "setup",
         "-D", str(oracle / "defaults"), "-M", str(oracle / "mounted"), "-F", str(oracle / "final")],
        env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, timeout=120, check=False)
    assert wrapper.returncode == 0, wrapper.stdout + wrapper.stderr
    root = image_root(tmp_path)
    ours = run_script(root, env)
    assert ours.returncode == 0, ours.stderr
    expected = properties(oracle / "final/server.properties")
    assert "listener.name.internal.ssl-endpoint_identification_algorithm=" in expected
    assert properties(root / "opt/kafka/config/server.properties") == expected


def test_jvm_settings_reach_java_and_the_storage_is_formatted_with_the_cluster_id(tmp_path):
    result = run_script(image_root(tmp_path), CONTRACT_ENV)
    assert result.returncode == 0, result.stderr
    launch = next(line for line in result.stdout.splitlines() if line.startswith("exec: java"))
    assert "-Xmx512m -Xms512m" in launch and "-Dx=y" in launch and launch.endswith("server.properties")
    assert "-Xmx1G" not in launch
    fmt = next(line for line in result.stdout.splitlines() if line.startswith("format:"))
    assert "--cluster-id=AAAAAAAAAAAAAAAAAAAAAA" in fmt and "--standalone" not in fmt  # static voters
    log4j = (tmp_path / "root/opt/kafka/config/log4j2.properties").read_text()
    assert "rootLogger.level = WARN" in log4j


def test_no_configuration_at_all_runs_the_default_single_node_with_the_default_cluster_id(tmp_path):
    root = image_root(tmp_path)
    result = run_script(root, {})
    assert result.returncode == 0, result.stderr
    assert properties(root / "opt/kafka/config/server.properties") == properties(DEFAULTS)
    assert 'Setting it to default value: "5L6g3nShT-eMCtK--X86sw"' in result.stdout
    assert "--standalone" in result.stdout  # the default is a dynamic quorum: its first controller is named
    assert "-Xmx1G -Xms1G" in result.stdout


def test_listeners_follow_the_advertised_listeners_and_arguments_override_the_environment(tmp_path):
    root = image_root(tmp_path)
    env = {"KAFKA_PROCESS_ROLES": "broker,controller", "KAFKA_NODE_ID": "1"}
    result = run_script(root, env, "KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://kafka.example:19092", "KAFKA_NODE_ID=7")
    assert result.returncode == 0, result.stderr
    props = properties(root / "opt/kafka/config/server.properties")
    assert "listeners=PLAINTEXT://0.0.0.0:19092" in props
    assert "advertised.listeners=PLAINTEXT://kafka.example:19092" in props
    assert "node.id=7" in props and "node.id=1" not in props


def test_a_mounted_server_properties_gets_the_environment_appended(tmp_path):
    root = image_root(tmp_path)
    (root / "mnt/shared/config/server.properties").write_text("log.dirs=/data\nnum.io.threads=2\n")
    result = run_script(root, {"KAFKA_NUM_IO_THREADS": "8"})
    assert result.returncode == 0, result.stderr
    lines = (root / "opt/kafka/config/server.properties").read_text().split()
    assert lines == ["log.dirs=/data", "num.io.threads=2", "num.io.threads=8"]  # the last one wins in Java


@pytest.mark.parametrize("env, args, says", [
    ({}, ["not-an-assignment"], "argument 'not-an-assignment' is not NAME=VALUE"),
    ({"KAFKA_PROCESS_ROLES": "controller", "KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://h:1"}, [],
     "KAFKA_ADVERTISED_LISTENERS is not supported on a KRaft controller"),
])
def test_bad_input_is_one_clear_line(tmp_path, env, args, says):
    result = run_script(image_root(tmp_path), env, *args)
    assert result.returncode != 0
    assert says in result.stderr


def test_the_class_data_sharing_archive_made_at_build_time_is_mapped_when_present(tmp_path):
    root = image_root(tmp_path)
    assert "SharedArchiveFile" not in run_script(root, {}).stdout
    (root / "opt/kafka").mkdir(parents=True, exist_ok=True)
    (root / "opt/kafka/kafka.jsa").write_bytes(b"archive")
    launch = run_script(root, {}).stdout
    assert f"-XX:SharedArchiveFile={root}/opt/kafka/kafka.jsa" in launch
    assert "SharedArchiveFile" not in run_script(root, {"DONKI_NO_CDS": "1"}).stdout  # make-cds writes it
