"""The peer of a real-time run: Kafka's own ProducerPerformance sending real ev44 messages
while kcat consumes them, on the same machine at the same time (the recorder's part).

ProducerPerformance takes its records from ``--payload-file``, split at a delimiter. It
reads that file as UTF-8 text (``java.util.Scanner``) and sends each piece re-encoded, so
every byte of an ev44 message that is not valid UTF-8 becomes U+FFFD (3 bytes): the
records it sends are larger than the messages in the file. Its MB/s is the honest peer
figure (bytes it moved); :class:`PeerResult` turns it into events/s at the ev44 message's
own bytes per event, and reports the inflation so the reader can judge.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: letters that never occur in the payloads written (checked): Scanner's delimiter is a regex
DELIMITER = "DONKIPAYLOADBOUNDARYQXZ"
PRODUCER_PROPS = ("acks=all", "linger.ms=5", "batch.size=1000000", "max.request.size=314572800",
                  "buffer.memory=1073741824")


@dataclass(frozen=True)
class PeerResult:
    """What ProducerPerformance (with kcat consuming alongside) achieved."""

    records: int
    records_per_s: float
    mb_per_s: float
    kcat_s: float | None
    inflation: float  # bytes ProducerPerformance sent per byte of the ev44 messages in the file
    events_per_message: float
    bytes_per_message: float

    @property
    def events_per_s(self) -> float:
        """Events/s had it sent the ev44 messages' own bytes at its MB/s."""
        return self.mb_per_s * 1e6 / self.bytes_per_message * self.events_per_message


def kcat_binary() -> str | None:
    return shutil.which("kcat") or shutil.which("kafkacat")


def write_payload_file(payloads: list[bytes], folder: Path) -> tuple[Path, float]:
    """The payloads joined by :data:`DELIMITER`, and how much UTF-8 decoding inflates them."""
    marker = DELIMITER.encode()
    if any(marker in p for p in payloads):
        raise RuntimeError(f"the delimiter {DELIMITER!r} occurs in a payload; choose another")
    path = folder / "ev44-payloads.bin"
    path.write_bytes(marker.join(payloads))
    sent = sum(len(p.decode("utf-8", errors="replace").encode("utf-8")) for p in payloads)
    return path, sent / sum(map(len, payloads))


def producer_performance(broker: Any, topic: str, payloads: list[bytes], events_per_message: float,
                         records: int, timeout_s: float = 600.0) -> PeerResult:
    """Run ProducerPerformance on ``payloads`` into ``topic`` while kcat reads it from the start."""
    runtime = broker.runtime
    with tempfile.TemporaryDirectory(prefix="donki-peer-") as folder:
        payload_file, inflation = write_payload_file(payloads, Path(folder))
        kcat = _start_kcat(broker.bootstrap_servers, topic, records)
        argv = [runtime.java, "-Xmx2g", "-cp", runtime.classpath, "org.apache.kafka.tools.ProducerPerformance",
                "--topic", topic, "--num-records", str(records), "--payload-file", str(payload_file),
                "--payload-delimiter", DELIMITER, "--throughput", "-1",
                "--producer-props", f"bootstrap.servers={broker.bootstrap_servers}", *PRODUCER_PROPS]
        started = time.monotonic()
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s).stdout
        kcat_s = _wait_kcat(kcat, started, timeout_s)
    summary = [line for line in out.splitlines() if "records sent" in line]
    if not summary:
        raise RuntimeError(f"ProducerPerformance printed no summary:\n{out[-2000:]}")
    head = summary[-1]
    per_s = float(head.split(",")[1].split("records/sec")[0])
    size = sum(map(len, payloads)) / len(payloads)
    # bytes it sent, in MB = 1e6 B: its own "MB/sec" is MiB (1024 x 1024), the unit of no other figure here
    mb_s = per_s * size * inflation / 1e6
    return PeerResult(records, per_s, mb_s, kcat_s, inflation, events_per_message, size)


def _start_kcat(bootstrap: str, topic: str, records: int) -> subprocess.Popen[bytes] | None:
    binary = kcat_binary()
    if binary is None:
        return None
    argv = [binary, "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-c", str(records), "-q",
            "-f", "%o\n", "-X", "fetch.wait.max.ms=10"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))


def _wait_kcat(kcat: subprocess.Popen[bytes] | None, started: float, timeout_s: float) -> float | None:
    """Seconds from the producer's start until kcat had read every record (None: no kcat)."""
    if kcat is None:
        return None
    try:
        kcat.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kcat.kill()
        kcat.wait()
        return None
    return time.monotonic() - started
