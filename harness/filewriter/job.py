"""One write job: consume its streams from the start time on, write them, stop at the stop time.

The job seeks each partition of its topics by Kafka timestamp (``offsets_for_times``) so
data produced before the start command arrived are written too; f144 partitions start
``LOG_LOOKBACK_MS`` earlier so the newest value from before the start is found. The job
ends once its stop time is known and every partition has either shown a message after
the stop time or reached its end with the wall clock ``stop_leeway_s`` past the stop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.filewriter.modules import NS_PER_MS, ModuleWriter
from harness.records import schema_id

if TYPE_CHECKING:
    import h5py

__all__ = ["JobSpec", "WriteJob", "LOG_LOOKBACK_MS"]

LOG_LOOKBACK_MS = 60_000
POLL_S = 0.1
BATCH = 500
METADATA_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class JobSpec:
    """What a run start asked for."""

    job_id: str
    path: Path
    file_name: str
    start_ns: int
    control_topic: str
    metadata: str = ""
    stop_ns: int | None = None


def _decoders() -> dict[str, Callable[[bytes], Any]]:
    from streaming_data_types import deserialise_ad00, deserialise_da00, deserialise_ev44, deserialise_f144

    return {"ev44": deserialise_ev44, "f144": deserialise_f144, "ad00": deserialise_ad00, "da00": deserialise_da00}


@dataclass
class _Partition:
    at_end: bool = False
    past_stop: bool = False
    last_ns: int = 0


@dataclass
class WriteJob:
    """A running job; :meth:`start` begins consuming, ``on_done(job, error)`` is called at the end."""

    spec: JobSpec
    h5: h5py.File
    modules: list[ModuleWriter]
    client_config: Mapping[str, Any]
    on_done: Callable[[WriteJob, str | None], None]
    flush_interval_s: float = 0.5
    stop_leeway_s: float = 1.0
    stop_ns: int | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    _abort: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.stop_ns = self.spec.stop_ns
        self.routes: dict[tuple[str, str], list[ModuleWriter]] = {}
        for module in self.modules:
            self.routes.setdefault((module.spec.topic, module.spec.source), []).append(module)

    def start(self) -> WriteJob:
        self._thread = threading.Thread(target=self._run, name=f"filewriter-{self.spec.job_id}", daemon=True)
        self._thread.start()
        return self

    def set_stop(self, stop_ns: int) -> None:
        self.stop_ns = int(stop_ns)

    def abort(self, reason: str) -> None:
        self.error = self.error or reason
        self._abort.set()

    def join(self, timeout_s: float) -> bool:
        return self.done.wait(timeout_s)

    def _run(self) -> None:
        try:
            consumer = self._consumer()
        except Exception as exc:  # noqa: BLE001 - a broker or topic problem ends the job, never the service
            self.error = f"cannot consume the job's topics: {exc}"
            self._finish()
            return
        try:
            self._consume(consumer)
        except Exception as exc:  # noqa: BLE001 - reported in wrdn; the file keeps what was flushed
            self.error = self.error or f"writing failed: {type(exc).__name__}: {exc}"
        finally:
            consumer.close()
            self._finish()

    def _consumer(self) -> Any:
        from confluent_kafka import OFFSET_END, TopicPartition

        from harness.kafka.clients import make_consumer

        consumer = make_consumer(self.client_config, None, **{"enable.partition.eof": True})
        log_topics = {m.spec.topic for m in self.modules if m.spec.module == "f144"}
        wanted = []
        for topic in sorted({m.spec.topic for m in self.modules}):
            meta = consumer.list_topics(topic, timeout=METADATA_TIMEOUT_S).topics[topic]
            if meta.error is not None:
                raise RuntimeError(f"topic {topic!r}: {meta.error}")
            since = self.spec.start_ns // NS_PER_MS - (LOG_LOOKBACK_MS if topic in log_topics else 0)
            wanted += [TopicPartition(topic, p, max(0, since)) for p in sorted(meta.partitions)]
        found = consumer.offsets_for_times(wanted, timeout=METADATA_TIMEOUT_S) if wanted else []
        assigned = [TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_END)
                    for tp in found]
        consumer.assign(assigned)
        self.partitions = {(tp.topic, tp.partition): _Partition() for tp in assigned}
        return consumer

    def _consume(self, consumer: Any) -> None:
        decoders = _decoders()
        next_flush = time.monotonic() + self.flush_interval_s
        while not self._abort.is_set() and not self._finished():
            for message in consumer.consume(BATCH, POLL_S):
                self._handle(message, decoders)
            if time.monotonic() >= next_flush:
                self.flush()
                next_flush = time.monotonic() + self.flush_interval_s

    def _handle(self, message: Any, decoders: Mapping[str, Callable[[bytes], Any]]) -> None:
        from confluent_kafka import KafkaError

        part = self.partitions.get((message.topic(), message.partition()))
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF and part is not None:
                part.at_end = True
            return
        if part is None:
            return
        part.at_end = False
        payload = message.value() or b""
        decode = decoders.get(schema_id(payload))
        if decode is None:
            return
        decoded = decode(payload)
        time_ns = _time_of(decoded)
        part.last_ns = max(part.last_ns, time_ns)
        if self.stop_ns is not None and time_ns // NS_PER_MS > self.stop_ns // NS_PER_MS:
            part.past_stop = True
        for module in self.routes.get((message.topic(), decoded.source_name), []):
            if module.spec.module == schema_id(payload):
                module.write(decoded, self.spec.start_ns, self.stop_ns)

    def _finished(self) -> bool:
        if self.stop_ns is None:
            return False
        late = time.time_ns() > self.stop_ns + self.stop_leeway_s * 1e9
        return all(p.past_stop or (late and p.at_end) for p in self.partitions.values())

    def flush(self) -> None:
        """Write what the modules hold and flush the file, so a crash loses at most one interval."""
        for module in self.modules:
            module.flush()
        self.h5.flush()

    def _finish(self) -> None:
        try:
            for module in self.modules:
                module.finish()
                if self.stop_ns is not None:  # data consumed before the stop command said where to stop
                    module.trim(self.stop_ns)
            self.flush()
            self.h5.attrs["donki_job_id"] = self.spec.job_id
            self.h5.close()
        except Exception as exc:  # noqa: BLE001 - the wrdn says so rather than the thread dying silently
            self.error = self.error or f"closing the file failed: {exc}"
        self.done.set()
        self.on_done(self, self.error)


def _time_of(decoded: Any) -> int:
    for name in ("timestamp_unix_ns", "timestamp_ns"):
        if hasattr(decoded, name):
            return int(getattr(decoded, name))
    reference = getattr(decoded, "reference_time", None)
    return int(reference[0]) if reference is not None and len(reference) else 0
