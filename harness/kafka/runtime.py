"""Where the local broker's Java and Apache Kafka jars come from.

Either an unpacked Apache Kafka release named by ``KAFKA_HOME``, or the jars that
``donki kafka fetch`` resolved with Maven (from the pom shipped in ``data/``) into the
user cache. Nothing here starts a broker.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.errors import KafkaRuntimeError

__all__ = [
    "DEFAULT_KAFKA_VERSION",
    "KafkaRuntime",
    "cache_root",
    "cache_lock",
    "find_java",
    "locate_runtime",
    "fetch_runtime",
    "runtime_from_home",
    "runtime_description",
]

DEFAULT_KAFKA_VERSION = "4.3.1"
MIN_JAVA = 17
MAVEN_TIMEOUT_S = 900.0
JAVA_PROBE_TIMEOUT_S = 30.0
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_KAFKA_JAR_RE = re.compile(r"^kafka_2\.1[0-9]-(\d+\.\d+\.\d+)\.jar$")
_COMPLETE = "COMPLETE"


@dataclass(frozen=True)
class KafkaRuntime:
    """Java plus the jars of one Apache Kafka version."""

    version: str
    libs: Path
    java: str
    source: str

    @functools.cached_property
    def classpath(self) -> str:
        """Explicit, sorted jar list: a stable class path is what lets CDS archives match."""
        jars = sorted(p for p in self.libs.glob("*.jar"))
        return os.pathsep.join(str(j) for j in jars)

    @property
    def state_dir(self) -> Path:
        """Per-runtime cache for derived files (CDS archive, storage template)."""
        key = hashlib.sha256(f"{self.libs.resolve()}|{self.java}".encode()).hexdigest()[:12]
        path = cache_root() / "state" / f"{self.version}-{key}"
        path.mkdir(parents=True, exist_ok=True)
        return path


def cache_root() -> Path:
    """The user cache: ``$DONKI_KAFKA_CACHE`` or ``$XDG_CACHE_HOME/pytest-donki/kafka``."""
    explicit = os.environ.get("DONKI_KAFKA_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pytest-donki" / "kafka"


@functools.lru_cache(maxsize=8)
def _java_major(java: str) -> int:
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=JAVA_PROBE_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KafkaRuntimeError(f"could not run {java} -version: {exc}") from None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise KafkaRuntimeError(f"could not read the Java version from `{java} -version`: {out.stderr.strip()}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 else major


def find_java() -> str:
    """The ``java`` executable (``$JAVA_HOME/bin/java`` first), version 17 or newer."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not candidate or not os.access(candidate, os.X_OK):
        where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no `java` on PATH"
        raise KafkaRuntimeError(
            f"Java {MIN_JAVA}+ is needed for the local Kafka broker, but {where}. "
            "Install it (Debian: `apt-get install openjdk-17-jre-headless`), set JAVA_HOME, "
            "or use an existing cluster with --donki-kafka=external --donki-bootstrap=HOST:PORT."
        )
    major = _java_major(candidate)
    if major < MIN_JAVA:
        raise KafkaRuntimeError(
            f"{candidate} is Java {major}; Apache Kafka 4 brokers need Java {MIN_JAVA} or newer. "
            "Install openjdk-17 and point JAVA_HOME at it."
        )
    return candidate


def runtime_from_home(kafka_home: str | os.PathLike[str]) -> KafkaRuntime:
    """Validate an unpacked Apache Kafka release directory."""
    home = Path(kafka_home)
    libs = home / "libs"
    jars = [m for p in libs.glob("kafka_2.1*.jar") if (m := _KAFKA_JAR_RE.match(p.name))] if libs.is_dir() else []
    if not jars:
        raise KafkaRuntimeError(
            f"KAFKA_HOME={home} is not an Apache Kafka release: expected {libs}/kafka_2.13-<version>.jar. "
            "Point KAFKA_HOME at an unpacked kafka_2.13-4.x.tgz, or unset it and run `donki kafka fetch`."
        )
    version = jars[0].group(1)
    if int(version.split(".")[0]) < 4:
        raise KafkaRuntimeError(
            f"KAFKA_HOME={home} holds Apache Kafka {version}; pytest-donki needs Kafka 4.x (KRaft only). "
            "Unpack a 4.x release or unset KAFKA_HOME and run `donki kafka fetch`."
        )
    return KafkaRuntime(version, libs, find_java(), f"KAFKA_HOME={home}")


def runtime_description() -> tuple[str, str] | None:
    """(version, source) of the runtime a local broker would use, without running Java.

    For report headers: cheap, never fetches, ``None`` when nothing is there yet.
    """
    home = os.environ.get("KAFKA_HOME")
    if home:
        jars = [m for p in (Path(home) / "libs").glob("kafka_2.1*.jar") if (m := _KAFKA_JAR_RE.match(p.name))]
        return (jars[0].group(1), f"KAFKA_HOME={home}") if jars else None
    version = os.environ.get("DONKI_KAFKA_VERSION") or DEFAULT_KAFKA_VERSION
    directory = cache_root() / version
    return (version, f"Maven cache {directory}") if (directory / _COMPLETE).exists() else None


def _cached(version: str) -> KafkaRuntime | None:
    directory = cache_root() / version
    if (directory / _COMPLETE).exists():
        return KafkaRuntime(version, directory / "libs", find_java(), f"Maven cache {directory}")
    return None


def _check_version(version: str) -> str:
    if not _VERSION_RE.match(version):
        raise KafkaRuntimeError(f"Kafka version {version!r} is not of the form MAJOR.MINOR.PATCH, e.g. 4.3.1")
    if int(version.split(".")[0]) < 4:
        raise KafkaRuntimeError(f"Kafka version {version} is too old: pytest-donki needs Kafka 4.x (KRaft only)")
    return version


@contextlib.contextmanager
def cache_lock() -> Iterator[None]:
    """Serialise fetches between processes (xdist workers starting at once)."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def fetch_runtime(
    version: str = DEFAULT_KAFKA_VERSION,
    *,
    timeout_s: float = MAVEN_TIMEOUT_S,
    log: Callable[[str], None] = lambda _msg: None,
    force: bool = False,
) -> KafkaRuntime:
    """Resolve the broker jars with Maven into the cache (idempotent, process-safe)."""
    _check_version(version)
    with cache_lock():
        if not force and (runtime := _cached(version)) is not None:
            return runtime
        mvn = shutil.which("mvn")
        if mvn is None:
            raise KafkaRuntimeError(
                "Maven (`mvn`) is not on PATH, so the Apache Kafka jars cannot be fetched. "
                "Install it (Debian: `apt-get install maven`) and run `donki kafka fetch`, "
                "or set KAFKA_HOME to an unpacked Apache Kafka 4.x release."
            )
        find_java()
        target = cache_root() / version
        log(f"fetching Apache Kafka {version} with Maven into {target} (first use; later runs reuse it)")
        with tempfile.TemporaryDirectory(prefix=f"fetch-{version}-", dir=cache_root()) as tmp:
            staging = Path(tmp)
            pom = staging / "pom.xml"
            template = resources.files("harness.kafka").joinpath("data/pom.xml").read_text()
            pom.write_text(template.replace("KAFKA_VERSION", version))
            _run_maven(mvn, pom, staging / "libs", timeout_s)
            (staging / _COMPLETE).write_text(version + "\n")
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(staging), str(target))
            staging.mkdir()  # TemporaryDirectory cleans up the (now empty) name
    runtime = _cached(version)
    assert runtime is not None
    return runtime


def _run_maven(mvn: str, pom: Path, out_dir: Path, timeout_s: float) -> None:
    argv = [
        mvn, "-B", "-q", "-f", str(pom), "dependency:copy-dependencies",
        f"-DoutputDirectory={out_dir}", "-DincludeScope=runtime",
    ]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise KafkaRuntimeError(
            f"Maven did not resolve the Kafka jars within {timeout_s:.0f} s; check access to Maven Central "
            "(or your mirror in ~/.m2/settings.xml), or set KAFKA_HOME to an unpacked Kafka release."
        ) from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise KafkaRuntimeError(
            f"Maven failed (exit {proc.returncode}) resolving the Kafka jars from {pom}:\n{tail}\n"
            "Fix the Maven access (proxy, ~/.m2/settings.xml) or set KAFKA_HOME to an unpacked Kafka release."
        )


def locate_runtime(
    *,
    kafka_home: str | None = None,
    version: str | None = None,
    fetch: str = "auto",
    log: Callable[[str], None] = lambda _msg: None,
) -> KafkaRuntime:
    """Find the broker runtime: ``kafka_home`` / ``$KAFKA_HOME``, the cache, or a Maven fetch.

    ``fetch`` is ``"auto"`` (fetch when Maven is present and the cache is empty) or ``"never"``.
    """
    home = kafka_home if kafka_home is not None else os.environ.get("KAFKA_HOME") or None
    if home is not None:
        return runtime_from_home(home)
    if version is None:
        version = os.environ.get("DONKI_KAFKA_VERSION") or DEFAULT_KAFKA_VERSION
    version = _check_version(version)
    runtime = _cached(version)
    if runtime is not None:
        return runtime
    if fetch == "auto" and shutil.which("mvn"):
        return fetch_runtime(version, log=log)
    raise KafkaRuntimeError(
        f"No Apache Kafka {version} runtime found (not in {cache_root() / version}, KAFKA_HOME unset). "
        "Run `donki kafka fetch` (needs Maven and Java 17+), or set KAFKA_HOME to an unpacked Kafka 4.x "
        "release, or use an existing cluster with --donki-kafka=external --donki-bootstrap=HOST:PORT."
    )
