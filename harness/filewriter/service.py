"""The file-writer double: kafka-to-nexus's command protocol on a job-pool topic.

A pl72 run start on the job-pool topic is answered there (answ, ``command_id`` = job
id, accepted or rejected with the reason); an accepted job then reports on the start's
``control_topic``: x5f2 status every ``status_interval_s`` (``state``, ``job_id``,
``file_being_written``), the answ to each 6s4t stop (its own command id; stop time 0
means now) and the wrdn when the file is closed. Several jobs run at once, each with
its own consumer. A bad command is a rejecting answ, never an exception in the service.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import FileWriterError
from harness.filewriter import messages
from harness.filewriter.job import METADATA_TIMEOUT_S, JobSpec, WriteJob
from harness.filewriter.nexusfile import create_file
from harness.filewriter.structure import parse_structure
from harness.records import schema_id

__all__ = ["WriterSettings", "FileWriterService"]

log = logging.getLogger(__name__)
NS_PER_MS = 1_000_000
POLL_S = 0.1
CLOSE_S = 30.0


@dataclass(frozen=True)
class WriterSettings:
    """How the double runs.

    ``status_interval_s`` stays well below the 15 s a client waits for a status before
    it gives up on the writer; ``stop_leeway_s`` is how long after the stop time the job
    waits for late data on partitions that show nothing newer.
    """

    job_pool_topic: str
    output_dir: Path
    service_id: str = "donki-filewriter"
    status_topic: str | None = None
    status_interval_s: float = 1.0
    stop_leeway_s: float = 1.0
    flush_interval_s: float = 0.5

    def __post_init__(self) -> None:
        for name in ("status_interval_s", "stop_leeway_s", "flush_interval_s"):
            value = getattr(self, name)
            if not 0 < value <= 60:
                raise FileWriterError(f"file writer: {name}={value!r}; expected a number of seconds in (0, 60]")


class FileWriterService:
    """Listens for commands until :meth:`stop`; use as a context manager."""

    def __init__(self, client_config: Mapping[str, Any], settings: WriterSettings) -> None:
        self.client_config = dict(client_config)
        self.settings = settings
        self.jobs: dict[str, WriteJob] = {}
        self.results: dict[str, str | None] = {}  # finished job -> error (None: written)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- life cycle
    def start(self) -> FileWriterService:
        from harness.kafka.clients import make_consumer, make_producer

        self.producer = make_producer(self.client_config, **{"linger.ms": 0})
        self.consumer = make_consumer(self.client_config)
        self._assign_from_end(self.settings.job_pool_topic)
        for target in (self._commands, self._status):
            thread = threading.Thread(target=target, name=f"filewriter-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __enter__(self) -> FileWriterService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End every job (their wrdn says the service stopped), then the service."""
        self._stopping.set()
        for job in list(self.jobs.values()):
            job.abort("the file-writer service was stopped before the job's stop time")
            job.join(CLOSE_S)
        for thread in self._threads:
            thread.join(CLOSE_S)
        self.consumer.close()
        self.producer.flush(CLOSE_S)

    # -- Kafka plumbing
    def _assign_from_end(self, topic: str) -> None:
        from confluent_kafka import TopicPartition

        meta = self.consumer.list_topics(topic, timeout=METADATA_TIMEOUT_S).topics[topic]
        if meta.error is not None:
            raise FileWriterError(f"file writer: job-pool topic {topic!r}: {meta.error}; create it first")
        ends = [TopicPartition(topic, p, self.consumer.get_watermark_offsets(
            TopicPartition(topic, p), timeout=METADATA_TIMEOUT_S)[1]) for p in sorted(meta.partitions)]
        self.consumer.incremental_assign(ends)
        self._assigned = {topic}

    def _listen_to(self, topic: str, since_ms: int) -> None:
        """Also read commands (6s4t) on a job's control topic, from the start command's time."""
        from confluent_kafka import OFFSET_END, TopicPartition

        if topic in self._assigned:
            return
        meta = self.consumer.list_topics(topic, timeout=METADATA_TIMEOUT_S).topics[topic]
        wanted = [TopicPartition(topic, p, since_ms) for p in sorted(meta.partitions)]
        found = self.consumer.offsets_for_times(wanted, timeout=METADATA_TIMEOUT_S)
        self.consumer.incremental_assign([TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0
                                                         else OFFSET_END) for tp in found])
        self._assigned.add(topic)

    def _send(self, topic: str, payload: bytes, key: str) -> None:
        self.producer.produce(topic, payload, key=key.encode(), timestamp=time.time_ns() // NS_PER_MS)
        self.producer.poll(0)

    # -- threads
    def _commands(self) -> None:
        while not self._stopping.is_set():
            message = self.consumer.poll(POLL_S)
            if message is None or message.error() is not None:
                continue
            try:
                self._command(message.topic() or "", message.value() or b"", message.timestamp()[1])
            except Exception:  # a command the double cannot even parse is logged, never fatal
                log.exception("file writer: command at %s offset %s", message.topic(), message.offset())

    def _status(self) -> None:
        interval = self.settings.status_interval_s
        interval_ms = round(interval * 1000)
        while not self._stopping.wait(interval):
            with self._lock:
                running = [job for job in self.jobs.values() if not job.done.is_set()]
            for job in running:
                state = {"state": "writing", "job_id": job.spec.job_id, "file_being_written": job.spec.file_name,
                         "start_time": job.spec.start_ns // NS_PER_MS,
                         "stop_time": None if job.stop_ns is None else job.stop_ns // NS_PER_MS}
                self._send(job.spec.control_topic, messages.status(self.settings.service_id, interval_ms, state),
                           job.spec.job_id)
            if self.settings.status_topic:
                state = {"state": "writing" if running else "idle", "jobs": [j.spec.job_id for j in running]}
                self._send(self.settings.status_topic, messages.status(self.settings.service_id, interval_ms, state),
                           self.settings.service_id)

    # -- commands
    def _command(self, topic: str, payload: bytes, timestamp_ms: int) -> None:
        kind = schema_id(payload)
        if kind == "pl72":
            self._start(payload, timestamp_ms)
        elif kind == "6s4t":
            self._stop(topic, payload)

    def _for_us(self, service_id: str) -> bool:
        return not service_id or service_id == self.settings.service_id

    def _start(self, payload: bytes, timestamp_ms: int) -> None:
        from streaming_data_types import deserialise_pl72

        start = deserialise_pl72(payload)
        if not self._for_us(start.service_id):
            return
        try:
            job = self._accept(start)
        except FileWriterError as exc:
            self._send(self.settings.job_pool_topic, messages.answ(
                self.settings.service_id, start.job_id, start.job_id, start=True, ok=False, message=str(exc)),
                start.job_id)
            return
        self._send(self.settings.job_pool_topic, messages.answ(
            self.settings.service_id, start.job_id, start.job_id, start=True, ok=True,
            message=f"writing {start.filename}", stop_time_ms=start.stop_time), start.job_id)
        job.start()
        self._listen_to(start.control_topic, timestamp_ms)

    def _accept(self, start: Any) -> WriteJob:
        if not start.job_id:
            raise FileWriterError("run start without a job_id; every start needs a unique job id")
        if not start.control_topic:
            raise FileWriterError(f"run start {start.job_id!r} has no control_topic; the writer reports status, "
                                  "answers and the finished file there")
        if not start.filename:
            raise FileWriterError(f"run start {start.job_id!r} has no filename")
        meta = self.consumer.list_topics(start.control_topic, timeout=METADATA_TIMEOUT_S).topics[start.control_topic]
        if meta.error is not None:
            raise FileWriterError(f"run start {start.job_id!r}: control_topic {start.control_topic!r} cannot be "
                                  f"used: {meta.error}")
        with self._lock:
            if start.job_id in self.jobs:
                raise FileWriterError(f"job id {start.job_id!r} is already in use; a job id must be unique")
            root = parse_structure(start.nexus_structure or "{}")
            path = Path(start.filename)
            path = path if path.is_absolute() else self.settings.output_dir / path
            h5, modules = create_file(path, root)
            spec = JobSpec(start.job_id, path, start.filename, int(start.start_time) * NS_PER_MS,
                           start.control_topic, start.metadata or "",
                           int(start.stop_time) * NS_PER_MS if start.stop_time else None)
            job = WriteJob(spec, h5, modules, self.client_config, self._done,
                           flush_interval_s=self.settings.flush_interval_s,
                           stop_leeway_s=self.settings.stop_leeway_s)
            self.jobs[start.job_id] = job
        return job

    def _stop(self, topic: str, payload: bytes) -> None:
        from streaming_data_types import deserialise_6s4t

        stop = deserialise_6s4t(payload)
        if not self._for_us(stop.service_id):
            return
        job = self.jobs.get(stop.job_id)
        stop_ns = int(stop.stop_time) * NS_PER_MS if stop.stop_time else time.time_ns()
        reason = None
        if job is None:
            reason = f"no job {stop.job_id!r} on this file writer"
        elif job.done.is_set():
            reason = f"job {stop.job_id!r} has finished already"
        elif stop_ns // NS_PER_MS < job.spec.start_ns // NS_PER_MS:
            reason = (f"stop time {stop_ns // NS_PER_MS} ms is before job {stop.job_id!r}'s start time "
                      f"{job.spec.start_ns // NS_PER_MS} ms")
        reply_to = job.spec.control_topic if job is not None else topic
        if reason is None and job is not None:
            job.set_stop(stop_ns)
        self._send(reply_to, messages.answ(self.settings.service_id, stop.job_id, stop.command_id, start=False,
                                           ok=reason is None, message=reason or "stop time set",
                                           stop_time_ms=stop_ns // NS_PER_MS), stop.job_id)

    def _done(self, job: WriteJob, error: str | None) -> None:
        self.results[job.spec.job_id] = error
        self._send(job.spec.control_topic, messages.finished(self.settings.service_id, job.spec.job_id,
                                                             job.spec.file_name, job.spec.metadata, error),
                   job.spec.job_id)
        idle = messages.status(self.settings.service_id, round(self.settings.status_interval_s * 1000),
                               {"state": "idle"})
        self._send(job.spec.control_topic, idle, job.spec.job_id)
        self.producer.flush(CLOSE_S)

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every job has finished (``False`` if the deadline passed first)."""
        deadline = time.monotonic() + timeout_s
        return all(job.join(max(0.0, deadline - time.monotonic())) for job in list(self.jobs.values()))

    def state(self) -> str:
        return json.dumps({job_id: ("writing" if not j.done.is_set() else "done") for job_id, j in self.jobs.items()})
