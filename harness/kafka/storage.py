"""KRaft storage formatting, done once per runtime and then copied.

``kafka-storage format`` costs a JVM start (about 2 s here) per node and per run. The
only file it writes that depends on the Kafka release is ``bootstrap.checkpoint``
(the initial feature levels); ``meta.properties`` holds just the cluster id, node id and
a directory id. So the checkpoint is made once per runtime by the real tool, cached,
and each run writes its own ``meta.properties`` beside a copy of it.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from harness.errors import KafkaRuntimeError
from harness.kafka.nodeconfig import NodeAddress, node_properties, render_properties
from harness.kafka.runtime import KafkaRuntime, cache_lock

__all__ = ["new_uuid", "format_node"]

FORMAT_TIMEOUT_S = 120.0
_CHECKPOINT = "bootstrap.checkpoint"


def new_uuid() -> str:
    """A Kafka Uuid in its text form (URL-safe base64, no padding), never starting with ``-``.

    ``kafka-storage format --cluster-id -x...`` takes such an id for an option (1 run in 64
    failed to start); Kafka's own ``Uuid.randomUuid`` avoids them for the same reason.
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _template_checkpoint(runtime: KafkaRuntime, log4j_config: Path) -> Path:
    cached = runtime.state_dir / _CHECKPOINT
    if cached.exists():
        return cached
    with cache_lock():
        if cached.exists():
            return cached
        with tempfile.TemporaryDirectory(prefix="donki-format-") as tmp:
            node = NodeAddress(1, 1, 2)
            data = Path(tmp) / "data"
            config = Path(tmp) / "server.properties"
            config.write_text(render_properties(node_properties(node, [node], str(data))))
            argv = [
                runtime.java, f"-Dlog4j2.configurationFile={log4j_config}", "-cp", runtime.classpath,
                "kafka.tools.StorageTool", "format", "-t", new_uuid(), "-c", str(config),
            ]
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=FORMAT_TIMEOUT_S)
            produced = data / _CHECKPOINT
            if proc.returncode != 0 or not produced.exists():
                tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
                raise KafkaRuntimeError(
                    f"kafka-storage format failed with the jars of {runtime.source} (exit {proc.returncode}):\n"
                    f"{tail}\nRe-fetch them with `donki kafka fetch --force` or fix KAFKA_HOME."
                )
            partial = cached.with_suffix(".tmp")
            shutil.copyfile(produced, partial)
            partial.replace(cached)
    return cached


def format_node(runtime: KafkaRuntime, log_dir: Path, node_id: int, cluster_id: str, log4j_config: Path) -> None:
    """Prepare an empty KRaft log directory for ``node_id`` of cluster ``cluster_id``."""
    checkpoint = _template_checkpoint(runtime, log4j_config)
    log_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(checkpoint, log_dir / _CHECKPOINT)
    (log_dir / "meta.properties").write_text(
        f"version=1\nnode.id={node_id}\ndirectory.id={new_uuid()}\ncluster.id={cluster_id}\n"
    )
