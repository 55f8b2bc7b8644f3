"""Where Java and the Kafka jars come from, and the errors when they cannot be had."""

from __future__ import annotations

import os
import shutil

import pytest

from harness.errors import KafkaRuntimeError
from harness.kafka.runtime import fetch_runtime, find_java, locate_runtime, runtime_from_home


@pytest.fixture()
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DONKI_KAFKA_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    return tmp_path / "cache"


@pytest.fixture()
def release_home(tmp_path):
    """An unpacked-release layout (bin/, libs/) made of the cached jars."""
    runtime = locate_runtime()
    home = tmp_path / "kafka_2.13-release"
    (home / "libs").mkdir(parents=True)
    (home / "bin").mkdir()
    for jar in runtime.libs.glob("*.jar"):
        (home / "libs" / jar.name).symlink_to(jar)
    return home


def test_kafka_home_that_is_not_a_release_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(KafkaRuntimeError) as info:
        runtime_from_home(tmp_path)
    message = str(info.value)
    assert f"KAFKA_HOME={tmp_path}" in message
    assert "kafka_2.13-<version>.jar" in message and "donki kafka fetch" in message


def test_kafka_home_with_a_pre_4_release_is_refused(tmp_path):
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "kafka_2.13-3.7.0.jar").write_bytes(b"")
    with pytest.raises(KafkaRuntimeError, match="Kafka 3.7.0; pytest-donki needs Kafka 4.x"):
        runtime_from_home(tmp_path)


def test_kafka_home_release_is_used_instead_of_the_cache(release_home, monkeypatch):
    monkeypatch.setenv("KAFKA_HOME", str(release_home))
    runtime = locate_runtime()
    assert runtime.source == f"KAFKA_HOME={release_home}"
    assert runtime.version.startswith("4.")
    assert str(release_home / "libs") in runtime.classpath


def test_missing_java_home_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(KafkaRuntimeError) as info:
        find_java()
    assert "has no bin/java" in str(info.value) and "openjdk-17" in str(info.value)


def test_no_java_on_path_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(KafkaRuntimeError, match="no `java` on PATH"):
        find_java()


def test_missing_maven_and_empty_cache_say_how_to_get_the_jars(empty_cache, monkeypatch, tmp_path):
    only_java = tmp_path / "bin"
    only_java.mkdir()
    (only_java / "java").symlink_to(os.path.realpath(find_java()))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(only_java))  # java yes, mvn no
    assert shutil.which("mvn") is None
    with pytest.raises(KafkaRuntimeError) as info:
        locate_runtime()
    assert "donki kafka fetch" in str(info.value) and "KAFKA_HOME" in str(info.value)
    with pytest.raises(KafkaRuntimeError, match="Maven .* is not on PATH"):
        fetch_runtime("4.3.1")


def test_malformed_version_is_refused_before_maven_runs(empty_cache):
    with pytest.raises(KafkaRuntimeError, match="not of the form MAJOR.MINOR.PATCH"):
        fetch_runtime("latest")


def test_maven_failure_reports_its_output_and_leaves_no_partial_cache(empty_cache):
    with pytest.raises(KafkaRuntimeError) as info:
        fetch_runtime("4.0.99", timeout_s=300)
    message = str(info.value)
    assert "Maven failed" in message and "4.0.99" in message
    assert not (empty_cache / "4.0.99").exists()


def test_cached_runtime_has_the_broker_and_its_perf_tools():
    runtime = locate_runtime()
    names = {p.name for p in runtime.libs.glob("*.jar")}
    assert f"kafka_2.13-{runtime.version}.jar" in names
    assert f"kafka-tools-{runtime.version}.jar" in names
    assert os.access(runtime.java, os.X_OK)
