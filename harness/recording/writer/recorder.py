"""The recorder: Kafka topics -> a recording file, in-process or as ``donki record``.

It reads any topics (any bytes, any schema) from explicit partition offsets, so what
"earliest", "latest" or "from this time" means is fixed when :meth:`Recorder.open`
returns. It stops when asked, at a deadline, after a message count or when it reached
the end offsets seen at the start; writes with bounded memory and periodic flushes
(see :mod:`harness.recording.writer.writer`), in a second thread while the consumer waits for
data (:mod:`harness.recording.writer.pipeline`); and reports lag and throughput.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import validate
from harness.errors import BrokerUnreachableError, DonkiError, RecordingError, TopicError
from harness.recording.throughput import Throughput
from harness.recording.writer.pipeline import WriteBehind
from harness.recording.writer.positions import StartPosition, resolve_offsets
from harness.recording.writer.writer import DEFAULT_FLUSH_INTERVAL_S, DEFAULT_MAX_BUFFER_BYTES, RecordingWriter
from harness.records import KafkaRecord

if TYPE_CHECKING:
    from confluent_kafka import TopicPartition

__all__ = ["Recorder", "RecorderStats", "CONSUMER_SETTINGS"]

CONNECT_TIMEOUT_S = 15.0
POLL_S = 0.1
BATCH = 1000
#: librdkafka's prefetch queue per recorder: bounds memory, still eight 8 MB messages deep.
#: A deeper queue (256 MB, before) only lets a recorder that is behind hold more fetched
#: buffers, each in fresh memory (measured, 600k 1 kB messages in-process: page faults
#: 43-89k -> 31-34k, system time 0.53-0.73 s -> 0.43-0.45 s; 8 MB: 0.51-0.55 -> 0.43 s).
QUEUE_KBYTES = 64 * 1024
#: The recorder's consumer settings, on top of the shared ones (which shorten
#: ``fetch.queue.backoff.ms``). librdkafka stops fetching whenever its queue holds
#: ``queued.min.messages`` (default 100 000): a consumer that writes between polls then finds
#: the queue empty and waits (measured: 1 kB messages at 157k msg/s with the defaults, 290k
#: with these, for a 2 ms pause per 1000).
#: The shared settings also let one fetch return up to 300 MB per partition (ESS's largest
#: messages), and librdkafka allocates each response whole: a recorder that falls behind
#: then gets every byte in freshly mapped memory (measured: one page fault per 3.5 kB
#: recorded, 1 kB messages). librdkafka's own sizes (1 MiB per partition, 50 MiB a fetch)
#: keep the buffers reusable (faults halved); a larger message still arrives whole, as the
#: broker returns a first batch above these limits (KIP-74) and
#: ``receive.message.max.bytes`` stays large.
FETCH_PARTITION_BYTES = 1 << 20
FETCH_BYTES = 50 << 20
CONSUMER_SETTINGS = {"queued.max.messages.kbytes": QUEUE_KBYTES, "queued.min.messages": 1_000_000,
                     "max.partition.fetch.bytes": FETCH_PARTITION_BYTES, "fetch.max.bytes": FETCH_BYTES}
STOP_JOIN_S = 60.0
#: Messages whose average size is below this are written by the consuming thread, larger
#: ones by the write-behind thread (their HDF5 writes then overlap the next fetch).
INLINE_BELOW_AVERAGE_BYTES = 64 << 10


@dataclass
class RecorderStats(Throughput):
    """What a recorder did so far (or in total, once stopped)."""

    path: str
    messages: int = 0
    bytes: int = 0
    elapsed_s: float = 0.0
    flushes: int = 0
    lag: int | None = None  # messages on the broker not yet recorded, over all partitions
    lag_by_partition: dict[str, int] = field(default_factory=dict)
    stop_reason: str = ""

    def line(self) -> str:
        """One line for a progress display."""
        lag = "?" if self.lag is None else str(self.lag)
        return (f"{self.messages} messages, {self.bytes / 1e6:.1f} MB in {self.elapsed_s:.1f} s "
                f"({self.msg_per_s:.0f} msg/s, {self.mb_per_s:.1f} MB/s), lag {lag}")


class Recorder:
    """Record Kafka topics into a new recording file.

    Parameters
    ----------
    path
        The recording to create (an existing file is an error unless ``overwrite``).
    topics
        Topic names; each must exist (a :class:`TopicError` names a missing one).
    client_config
        Client settings with ``bootstrap.servers`` (e.g. ``broker.client_config``).
    start
        ``"earliest"``, ``"latest"``, epoch seconds, ISO time or a :class:`StartPosition`.
    until_end, max_messages, duration_s
        Stop conditions besides :meth:`stop`: the end offsets seen at the start reached,
        a message count, seconds since the start.
    on_record
        Called with each :class:`KafkaRecord` (in the thread that writes it).
    progress
        Called with :class:`RecorderStats` every ``report_interval_s``.
    journal, scenario, metadata, units, views
        Stored when the recording is closed (may also be set as attributes before). The
        views are built while recording (``views`` as it is at :meth:`open`); closing
        finalises them.
    write_behind
        Write large messages to HDF5 in a second thread, during the consumer's waits for
        data (default; small ones are written by the consuming thread either way); false
        writes everything in the consuming thread.
    check_broker
        Probe the broker in :meth:`open` (default), for a clear error when none answers;
        false when the caller has just done so (``donki record`` does, with its own hint).
    """

    def __init__(
        self,
        path: str | Path,
        topics: Iterable[str],
        client_config: Mapping[str, Any],
        *,
        start: Any = "earliest",
        until_end: bool = False,
        max_messages: int | None = None,
        duration_s: float | None = None,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        max_buffer_bytes: int = DEFAULT_MAX_BUFFER_BYTES,
        overwrite: bool = False,
        metadata: Mapping[str, Any] | None = None,
        journal: Any = None,
        scenario: Any = None,
        units: Mapping[str, str] | None = None,
        views: bool = True,
        on_record: Callable[[KafkaRecord], None] | None = None,
        progress: Callable[[RecorderStats], None] | None = None,
        report_interval_s: float = 1.0,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        consumer_overrides: Mapping[str, Any] | None = None,
        write_behind: bool = True,
        check_broker: bool = True,
    ) -> None:
        self.path = validate.new_file("recording", path, make_parents=True)  # the writer makes the directory
        _check_numbers(max_messages, duration_s, flush_interval_s, max_buffer_bytes, report_interval_s,
                       connect_timeout_s)
        self.topics = list(dict.fromkeys(topics))
        if not self.topics:
            raise RecordingError("a recorder needs at least one topic (--topic NAME)")
        self.client_config = dict(client_config)
        self.start_position = StartPosition.parse(start)
        self.until_end, self.max_messages, self.duration_s = until_end, max_messages, duration_s
        self.journal, self.scenario, self.units, self.views = journal, scenario, units, views
        self.metadata = dict(metadata or {})
        self._writer_options: dict[str, Any] = dict(flush_interval_s=flush_interval_s,
                                                    max_buffer_bytes=max_buffer_bytes, overwrite=overwrite)
        self._on_record, self._progress, self._report_s = on_record, progress, report_interval_s
        self._connect_timeout_s = connect_timeout_s
        self.write_behind = write_behind
        self._check_broker = check_broker
        self._overrides = {**CONSUMER_SETTINGS, **(consumer_overrides or {})}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._consumer: Any = None
        self._writer: RecordingWriter | None = None
        self._assigned: list[TopicPartition] = []
        self._end_offsets: dict[tuple[str, int], int] = {}
        self._stats = RecorderStats(str(self.path))
        self._pipeline: WriteBehind | None = None
        self._count_changed = threading.Condition()

    # -- setting up -------------------------------------------------------------------

    def open(self) -> Recorder:
        """Connect, check the topics, fix the start offsets and create the file."""
        from harness.kafka.clients import make_consumer
        from harness.kafka.readiness import probe

        bootstrap = self.client_config.get("bootstrap.servers", "")
        if self._check_broker:
            security = {k: v for k, v in self.client_config.items() if k != "bootstrap.servers"}
            health = probe(bootstrap, security, self._connect_timeout_s)
            if not health.ok:
                raise BrokerUnreachableError(f"no Kafka broker answered at {bootstrap!r} ({health.detail}); start "
                                             f"one (`donki kafka start`) or fix the bootstrap address")
        self._consumer = make_consumer(self.client_config, **self._overrides)
        try:
            partitions = self._partitions()
            self._assigned = resolve_offsets(self._consumer, partitions, self.start_position, self._connect_timeout_s)
            self._end_offsets = self._high_watermarks(partitions) if self.until_end else {}
            self._consumer.assign(self._assigned)
            self._writer = RecordingWriter(self.path, topics=self.topics, metadata=self._run_metadata(bootstrap),
                                           views=self.views, **self._writer_options)
        except BaseException:
            self._consumer.close()
            raise
        return self

    def _partitions(self) -> list[TopicPartition]:
        from confluent_kafka import KafkaException, TopicPartition

        try:
            metadata = self._consumer.list_topics(timeout=self._connect_timeout_s)
        except KafkaException as exc:
            raise BrokerUnreachableError(f"cannot list topics on {self.client_config.get('bootstrap.servers')}: "
                                         f"{exc.args[0] if exc.args else exc}") from None
        found: list[TopicPartition] = []
        for topic in self.topics:
            info = metadata.topics.get(topic)
            if info is None or info.error is not None or not info.partitions:
                known = sorted(n for n in metadata.topics if not n.startswith("__"))
                raise TopicError(f"topic {topic!r} does not exist on {self.client_config.get('bootstrap.servers')}; "
                                 f"existing topics: {known[:20]}{' ...' if len(known) > 20 else ''}")
            found.extend(TopicPartition(topic, p) for p in sorted(info.partitions))
        return found

    def _high_watermarks(self, partitions: list[TopicPartition]) -> dict[tuple[str, int], int]:
        ends: dict[tuple[str, int], int] = {}
        for tp in partitions:
            _, high = self._consumer.get_watermark_offsets(tp, timeout=self._connect_timeout_s)
            ends[(tp.topic, tp.partition)] = high
        return ends

    def _run_metadata(self, bootstrap: str) -> dict[str, Any]:
        return {"bootstrap": bootstrap, "topics": self.topics, "start_position": self.start_position.describe(),
                "start_offsets": {f"{tp.topic}[{tp.partition}]": tp.offset for tp in self._assigned},
                **self.metadata}

    # -- running ----------------------------------------------------------------------

    def run(self) -> RecorderStats:
        """Record until a stop condition; close the file; return the totals."""
        if self._writer is None:
            self.open()
        t0 = time.monotonic()
        wall0 = time.time()
        reason = "stopped"
        pipeline = self._pipeline = WriteBehind(self._write, self._open_writer().maybe_flush,
                                                name=f"donki-writer-{self.path.name}", threaded=self.write_behind)
        try:
            with _older_objects_frozen():
                reason = self._loop(pipeline, t0, wall0)
            pipeline.close()
        except BaseException as exc:
            reason = f"error: {type(exc).__name__}: {exc}"
            raise
        finally:
            self._finish(reason, t0)
        return self._stats

    def _open_writer(self) -> RecordingWriter:
        if self._writer is None:
            raise RecordingError(f"recording {self.path}: the recorder is not open; call open() or run() first")
        return self._writer

    def _loop(self, pipeline: WriteBehind, t0: float, wall0: float) -> str:
        next_report = t0 + self._report_s
        pending_ends = dict(self._end_offsets)
        if self.until_end:
            pending_ends = {k: v for k, v in pending_ends.items() if v > self._start_offset(k)}
        taken = 0
        while True:
            pipeline.check()
            if self._stop.is_set():
                return "stopped"
            if self.duration_s is not None and time.monotonic() - t0 >= self.duration_s:
                return "duration"
            if self.until_end and not pending_ends:
                return "end of topics"
            if self.max_messages is not None and taken >= self.max_messages:
                return "message count"
            messages = self._consumer.consume(num_messages=BATCH, timeout=POLL_S)
            good = self._good(messages, taken)
            if good:
                taken += len(good)
                received = wall0 + (time.monotonic() - t0)
                if self._writes_inline(good):
                    pipeline.write(good, received)
                else:
                    pipeline.submit(good, received, sum(map(len, good)))
                if pending_ends:
                    self._reached_ends(good, pending_ends)
            elif not messages and pending_ends:
                self._reached_ends_by_position(pending_ends)
            if time.monotonic() >= next_report:
                next_report = time.monotonic() + self._report_s
                self._report(t0)

    def _writes_inline(self, batch: list[Any]) -> bool:
        """Small messages so far (or in the first batch): write them in this thread.

        See :mod:`harness.recording.writer.pipeline`. The average so far decides, so that small
        messages are not measured twice.
        """
        writer = self._open_writer()
        messages, size = writer.messages, writer.bytes
        if not messages:
            messages, size = len(batch), sum(map(len, batch))
        return size < INLINE_BELOW_AVERAGE_BYTES * messages

    def _start_offset(self, key: tuple[str, int]) -> int:
        return next(tp.offset for tp in self._assigned if (tp.topic, tp.partition) == key)

    def _good(self, messages: list[Any], taken: int) -> list[Any]:
        """The messages to record: errors handled, the message count respected."""
        good = [m for m in messages if m.error() is None]
        if len(good) != len(messages):
            for message in messages:
                if message.error() is not None:
                    self._handle_error(message.error())
        if self.max_messages is not None:
            good = good[:max(0, self.max_messages - taken)]
        return good

    def _write(self, messages: list[Any], received: float) -> None:
        """Runs in the writer thread: append a batch, call ``on_record``, publish the counts."""
        writer = self._open_writer()
        writer.append_messages(messages, received)
        if self._on_record is not None:
            for message in messages:
                self._on_record(KafkaRecord.from_message(message, received))
        writer.maybe_flush()
        with self._count_changed:
            self._stats.messages, self._stats.bytes = writer.messages, writer.bytes
            self._count_changed.notify_all()

    def _reached_ends(self, messages: list[Any], pending_ends: dict[tuple[str, int], int]) -> None:
        """Drop the partitions whose end offset this batch reached (the last message of each decides)."""
        seen: set[tuple[str, int]] = set()
        for message in reversed(messages):
            key = (message.topic(), message.partition())
            if key in seen:
                continue
            seen.add(key)
            if key in pending_ends and message.offset() + 1 >= pending_ends[key]:
                del pending_ends[key]
            if len(seen) == len(self._assigned):
                break

    def _reached_ends_by_position(self, pending_ends: dict[tuple[str, int], int]) -> None:
        """Drop the partitions whose position passed their end offset without a message to show it.

        Transaction markers take offsets that no consumer receives: a transactional topic's
        last message is one before its end offset, but the consumer's position moves past
        the marker.
        """
        from confluent_kafka import TopicPartition

        positions = self._consumer.position([TopicPartition(topic, partition) for topic, partition in pending_ends])
        for tp in positions:
            if tp.offset >= 0 and tp.offset >= pending_ends[(tp.topic, tp.partition)]:
                del pending_ends[(tp.topic, tp.partition)]

    def _handle_error(self, error: Any) -> None:
        from confluent_kafka import KafkaError

        if error.code() == KafkaError._PARTITION_EOF:
            return
        if error.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC, KafkaError._UNKNOWN_PARTITION):
            raise TopicError(f"recording {self.path}: a topic went away: {error.str()}")
        if error.fatal() or not error.retriable():
            raise DonkiError(f"recording {self.path}: Kafka consumer error: {error.str()}")

    def _report(self, t0: float) -> None:
        self._update_stats(t0)
        if self._progress is not None:
            self._progress(self.stats)

    def _update_stats(self, t0: float) -> None:
        from confluent_kafka import KafkaException

        stats, writer = self._stats, self._open_writer()
        stats.messages, stats.bytes = writer.messages, writer.bytes
        stats.flushes, stats.elapsed_s = writer.flushes, time.monotonic() - t0
        try:
            positions = self._consumer.position(self._assigned)
        except KafkaException:
            return
        lags = {}
        # position() answers per partition asked; strict=False: a progress figure must never end a recording
        for tp, assigned in zip(positions, self._assigned, strict=False):
            high = self._consumer.get_watermark_offsets(tp, cached=True)[1]
            position = tp.offset if tp.offset >= 0 else assigned.offset
            if high >= 0:
                lags[f"{tp.topic}[{tp.partition}]"] = max(0, high - position)
        stats.lag_by_partition = lags
        stats.lag = sum(lags.values()) if lags else None

    def _finish(self, reason: str, t0: float) -> None:
        if self._writer is None:
            return
        try:
            if self._pipeline is not None:
                self._pipeline.close()  # writes what is queued (a writer-thread error was raised already)
        except BaseException:  # noqa: BLE001 - the run's own error is the one to report
            pass
        try:
            self._update_stats(t0)
        finally:
            self._consumer.close()
        self._stats.stop_reason = reason
        self._writer.close(journal=self.journal, scenario=self.scenario, stop_reason=reason, views=self.views,
                           units=self.units, metadata={"lag_at_stop": self._stats.lag})
        self._stats.flushes = self._writer.flushes

    # -- background use ---------------------------------------------------------------

    @property
    def stats(self) -> RecorderStats:
        """A snapshot of the counters."""
        s = self._stats
        return RecorderStats(s.path, s.messages, s.bytes, s.elapsed_s, s.flushes, s.lag, dict(s.lag_by_partition),
                             s.stop_reason)

    def start(self) -> Recorder:
        """Open (offsets fixed when this returns), then record in a background thread."""
        if self._writer is None:
            self.open()
        self._thread = threading.Thread(target=self._run_in_thread, name=f"donki-recorder-{self.path.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def _run_in_thread(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by stop()
            self._error = exc
        finally:
            with self._count_changed:
                self._count_changed.notify_all()

    def wait_for(self, count: int, timeout_s: float) -> bool:
        """Block until ``count`` messages are recorded (true) or ``timeout_s`` passed (false)."""
        deadline = time.monotonic() + timeout_s
        with self._count_changed:
            while self._stats.messages < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self._thread is not None and not self._thread.is_alive()):
                    return self._stats.messages >= count
                self._count_changed.wait(min(remaining, 0.2))
        return True

    def request_stop(self) -> None:
        """Ask a running :meth:`run` to finish (safe from signal handlers and other threads)."""
        self._stop.set()

    def stop(self, timeout_s: float = STOP_JOIN_S) -> RecorderStats:
        """Stop recording, close the file and return the totals; re-raises a recorder error."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                raise RecordingError(f"recorder of {self.path} did not stop within {timeout_s:.0f} s")
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self.stats

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


@contextlib.contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """While recording, Python's cyclic collector leaves out the objects that existed before.

    Each consumed batch allocates a thousand collector-tracked ``Message`` objects, so
    collections run often, and each full one walked every object of the process (numpy's,
    h5py's and confluent-kafka's included): measured 15 % of the recorder's CPU time on
    1 kB messages. A recording's own objects form no cycles. Unfrozen at the end, so a
    cycle among the older objects is still collected, only later.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _check_numbers(max_messages: int | None, duration_s: float | None, flush_interval_s: float,
                   max_buffer_bytes: int, report_interval_s: float, connect_timeout_s: float) -> None:
    """Finite and in range: a NaN duration would record forever, a NaN flush interval never flush."""
    if max_messages is not None:
        validate.integer("recorder max_messages", max_messages, low=1, high=validate.MAX_COUNT)
    if duration_s is not None:
        validate.duration("recorder duration_s", duration_s)
    validate.duration("recorder flush_interval_s", flush_interval_s, high=3600.0)
    validate.integer("recorder max_buffer_bytes", max_buffer_bytes, low=1, high=2**40)
    validate.duration("recorder report_interval_s", report_interval_s, high=3600.0)
    validate.duration("recorder connect_timeout_s", connect_timeout_s, high=3600.0)
