"""The replayer: a recording -> Kafka, same bytes, same order, timed.

Every message goes to the partition it was recorded from (of its topic, or of the
topic it is remapped to), in recording order, with its exact payload, key and headers
and its recorded Kafka timestamp; the idempotent producer keeps per-partition order
across retries. Timing: as recorded (``speed=1``), scaled (``speed=2`` is twice as
fast), or as fast as possible (``speed=None``); each message is sent at its absolute
offset from the start on the monotonic clock, and the report says how closely: at the
send (``timing``) and at delivery (``delivery``: when the broker's acknowledgement was
handled, the producer being served while the replay waits).
"""

from __future__ import annotations

import gc
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import validate
from harness.errors import BrokerUnreachableError, ConfigError, RecordingError, TopicError
from harness.recording.fbtime import data_time_ns
from harness.recording.integrity import refuse_damaged
from harness.recording.reader.reader import Recording, topic_partitions
from harness.recording.replay.feed import RecordFeed
from harness.recording.replay.pacing import DEFAULT_CATCH_UP_S, DEFAULT_SPIN_S, Pacer, TimingError
from harness.recording.replay.retime import Retimer
from harness.recording.throughput import Throughput
from harness.records import KafkaRecord

__all__ = ["Replayer", "ReplayReport", "CLOCKS", "TopicMap"]

CLOCKS = ("timestamp", "received", "data")
FLUSH_TIMEOUT_S = 60.0
QUEUE_FULL_WAIT_S = 0.05
STOP_JOIN_S = 60.0
PACED_BLOCK_ROWS = 128
FAST_BLOCK_ROWS = 4096
POLL_EVERY = 512  # flat out, serve the producer's events every this many messages
#: Paced: the producer's statistics say when the idempotent producer has its id. Until then it holds
#: every message back (a fresh broker's coordinator takes up to a second), so the clock starts after.
READY_STATS_MS = 20
READY_TIMEOUT_S = 15.0
_ID_ASSIGNED = re.compile(r'"idemp_state":\s*"Assigned"')
TopicMap = Mapping[str, str] | Callable[[str], str] | None

MIN_SPEED = 1e-3  # a thousand times slower than recorded: a one-second recording takes 17 minutes
MAX_SPEED = 1e6  # faster than this is --fast


@dataclass
class ReplayReport(Throughput):
    """What a replay sent and how closely it kept the recorded timing."""

    messages: int = 0
    bytes: int = 0
    delivered: int = 0
    failed: int = 0
    first_failure: str = ""
    loops: int = 0
    elapsed_s: float = 0.0
    speed: float | None = 1.0
    clock: str = "timestamp"
    timing: TimingError | None = None  # at the send (the produce call)
    delivery: TimingError | None = None  # at delivery (the broker's acknowledgement handled)
    clamped_gaps: int = 0
    resyncs: int = 0  # stalls after which the schedule was moved rather than caught up in a burst
    resync_s: float = 0.0  # how far the schedule moved in total
    unshifted: int = 0
    topics: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        pace = "as fast as possible" if self.speed is None else f"speed {self.speed:g} by {self.clock}"
        text = (f"{self.messages} messages ({self.delivered} delivered, {self.failed} failed), "
                f"{self.bytes / 1e6:.1f} MB in {self.elapsed_s:.2f} s ({self.msg_per_s:.0f} msg/s, "
                f"{self.mb_per_s:.1f} MB/s), {self.loops} loop(s), {pace}")
        if self.timing and self.speed is not None:
            text += f"; at the send: {self.timing.line()}"
        if self.delivery and self.speed is not None:
            text += f"; at delivery: {self.delivery.line()}"
            if self.resyncs:
                text += f"; {self.resyncs} stall(s) moved the schedule by {self.resync_s * 1e3:.1f} ms"
        return text


def _mapper(topic_map: TopicMap) -> Callable[[str], str]:
    if topic_map is None:
        return lambda topic: topic
    if callable(topic_map):
        return topic_map
    mapping = dict(topic_map)
    return lambda topic: mapping.get(topic, topic)


class _Schedule:
    """Recorded times (integer ns) -> send offsets (s): scaled, never backwards, long gaps shortened."""

    def __init__(self, speed: float, max_gap_s: float | None) -> None:
        self.speed = speed
        self.max_gap_ns = None if max_gap_s is None else int(max_gap_s * 1e9)
        self.base: int | None = None
        self.latest = 0
        self.skipped = 0
        self.previous = 0.0
        self.clamped = 0

    def offset(self, t_ns: int) -> float:
        if self.base is None:
            self.base = self.latest = t_ns
        elif self.max_gap_ns is not None and t_ns - self.latest > self.max_gap_ns:
            self.skipped += t_ns - self.latest - self.max_gap_ns
            self.clamped += 1
        self.latest = max(self.latest, t_ns)
        self.previous = max(self.previous, (t_ns - self.base - self.skipped) / 1e9 / self.speed)
        return self.previous


@dataclass
class _Run:
    """The state of one replay across its loops."""

    retimer: Retimer
    pacer: Pacer
    paced: bool
    loop_offset_s: float = 0.0  # send offset of the current loop's first message
    loop_shift_ns: int = 0  # extra data-time shift of the current loop
    scheduled: list[float] = field(default_factory=list)
    due: list[float] = field(default_factory=list)
    actual: list[float] = field(default_factory=list)
    delivered: list[float] = field(default_factory=list)  # per paced message; nan until its report arrives

    def wait(self, offset_s: float, feed: RecordFeed, producer: Any) -> None:
        if not self.scheduled:
            self.pacer.restart()  # the clock starts at the first message, not at the first read
        self.scheduled.append(offset_s)
        self.due.append(self.pacer.target(offset_s))
        self.actual.append(self.pacer.wait(offset_s, feed.fill_until, producer.poll) - self.pacer.t0)
        self.delivered.append(math.nan)

    def on_delivery(self, index: int) -> Callable[[Any, Any], None]:
        """A delivery callback that notes when message ``index``'s report was handled."""
        def delivered(error: Any, message: Any) -> None:
            self.delivered[index] = time.monotonic() - self.pacer.t0
        return delivered

    def delivery_timing(self) -> TimingError | None:
        """Delivery times against the schedule, over the messages that were delivered."""
        kept = [i for i, t in enumerate(self.delivered) if not math.isnan(t)]
        return TimingError.measure([self.scheduled[i] for i in kept], [self.delivered[i] for i in kept],
                                   [self.due[i] for i in kept])


class Replayer:
    """Publish a recording into Kafka.

    Parameters
    ----------
    recording
        A path or an open :class:`Recording`.
    client_config
        Client settings with ``bootstrap.servers``.
    topic_map
        Recorded topic -> target topic (mapping or function); unmapped topics keep their name.
    topics, streams, partitions, triggers, start, stop
        Which messages to send (see :meth:`Recording.select`).
    speed
        1 for the recorded timing, 2 for twice as fast, ``None`` (or 0) for as fast as possible.
    clock
        The recorded time base: ``"timestamp"`` (Kafka timestamp), ``"received"`` (when the
        recorder got it) or ``"data"`` (the ESS payload's own time, else the Kafka timestamp).
    loops
        How many times to send the selection; 0 repeats until :meth:`stop`.
    shift_timestamps
        Move Kafka and ESS timestamps so the first message is "now" (the data look live).
    max_gap_s
        Recorded pauses longer than this are shortened to it (reported as ``clamped_gaps``).
    catch_up_s
        A send later than this (the process was stalled) moves the rest of the schedule
        by the delay instead of sending the backlog at once (``None``: strict schedule).
    """

    def __init__(
        self,
        recording: str | Path | Recording,
        client_config: Mapping[str, Any],
        *,
        topic_map: TopicMap = None,
        topics: Iterable[str] | None = None,
        streams: Iterable[str] | None = None,
        partitions: Iterable[int] | None = None,
        triggers: Any = None,
        start: float | None = None,
        stop: float | None = None,
        speed: float | None = 1.0,
        clock: str = "timestamp",
        loops: int = 1,
        shift_timestamps: bool = False,
        max_gap_s: float | None = None,
        spin_s: float = DEFAULT_SPIN_S,
        catch_up_s: float | None = DEFAULT_CATCH_UP_S,
        flush_timeout_s: float = FLUSH_TIMEOUT_S,
        check_topics: bool = True,
        producer_overrides: Mapping[str, Any] | None = None,
        verify: bool = True,
    ) -> None:
        if clock not in CLOCKS:
            raise RecordingError(f"unknown replay clock {clock!r}; expected one of {', '.join(CLOCKS)}")
        if speed is not None and speed < 0:
            raise RecordingError(f"replay speed {speed} is negative; expected > 0, or None/0 for as fast as possible")
        if loops < 0:
            raise RecordingError(f"loops={loops}; expected 1 or more, or 0 to repeat until stopped")
        try:
            if speed:  # None or 0: as fast as possible
                validate.number("replay speed", speed, low=MIN_SPEED, high=MAX_SPEED)
            validate.integer("replay loops (0: until stopped)", loops, low=0, high=validate.MAX_COUNT)
            if max_gap_s is not None:
                validate.duration("replay max_gap_s", max_gap_s)
        except ConfigError as exc:
            raise RecordingError(str(exc)) from None
        self._owns = not isinstance(recording, Recording)
        self.recording = recording if isinstance(recording, Recording) else Recording(recording)
        self.client_config = dict(client_config)
        self.map_topic = _mapper(topic_map)
        select_clock = "received" if clock == "received" else "timestamp"
        self.rows = self.recording.select(topics=topics, streams=streams, partitions=partitions, triggers=triggers,
                                          start=start, stop=stop, clock=select_clock)
        if verify:  # before any producer exists: damaged data is refused, never half-published
            try:
                refuse_damaged(self.recording, self.rows)
            except BaseException:
                if self._owns:
                    self.recording.close()
                raise
        self.speed = speed or None
        self.clock, self.loops, self.max_gap_s = clock, loops, max_gap_s
        self.shift_timestamps, self.spin_s, self.flush_timeout_s = shift_timestamps, spin_s, flush_timeout_s
        self.catch_up_s = catch_up_s
        self.check_topics = check_topics
        paced = {"linger.ms": 0} if self.speed is not None else {}
        # flat out, one Python callback per failed message only (per-message callbacks halve the fast
        # path); paced, every message reports its delivery, whose time the report measures
        reports = {"delivery.report.only.error": self.speed is None, "on_delivery": self._failed}
        ready = {"statistics.interval.ms": READY_STATS_MS, "stats_cb": self._note_ready} if self.speed else {}
        self._producer_config = {**paced, **reports, **ready, **(producer_overrides or {})}
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.report = ReplayReport(speed=self.speed, clock=clock)
        self._targets: dict[tuple[str, int], tuple[str, int]] | None = None
        self._topics: dict[str, str] = {}  # recorded -> target topic, memoised

    # -- checks -----------------------------------------------------------------------

    def targets(self) -> dict[tuple[str, int], tuple[str, int]]:
        """(recorded topic, partition) -> (target topic, partition) of every selected message."""
        if self._targets is None:
            pairs = topic_partitions(self.recording.index[self.rows])
            self._targets = {(self.recording.topics[t], p): (self.map_topic(self.recording.topics[t]), p)
                             for t, p in pairs}
        return self._targets

    def _check_targets(self, producer: Any) -> None:
        from confluent_kafka import KafkaException

        bootstrap = self.client_config.get("bootstrap.servers")
        try:
            metadata = producer.list_topics(timeout=15)
        except KafkaException as exc:
            raise BrokerUnreachableError(f"no Kafka broker answered at {bootstrap!r}: "
                                         f"{exc.args[0] if exc.args else exc}") from None
        for (source, partition), (target, _) in sorted(self.targets().items()):
            info = metadata.topics.get(target)
            if info is None or info.error is not None:
                raise TopicError(f"replay target topic {target!r} (for recorded {source!r}) does not exist on "
                                 f"{bootstrap}; create it (`donki kafka topics create {target} --partitions "
                                 f"{partition + 1}`) or remap it")
            if partition >= len(info.partitions):
                raise TopicError(f"replay target topic {target!r} has {len(info.partitions)} partition(s); the "
                                 f"recording of {source!r} needs partition {partition}: add partitions or remap")

    # -- running ----------------------------------------------------------------------

    def run(self) -> ReplayReport:
        """Send everything selected (``loops`` times) and wait for delivery; returns the report."""
        try:
            producer = self._producer()
            run = None
            try:
                run = self._send_all(producer)
            finally:
                self._flush(producer)
            if run.paced:  # after the flush: the last acknowledgements arrive during it
                self.report.delivery = run.delivery_timing()
        finally:
            if self._owns:
                self.recording.close()
        return self.report

    def _producer(self) -> Any:
        from harness.kafka.clients import make_producer
        from harness.kafka.readiness import probe

        bootstrap = self.client_config.get("bootstrap.servers", "")
        health = probe(bootstrap, {k: v for k, v in self.client_config.items() if k != "bootstrap.servers"}, 15.0)
        if not health.ok:
            raise BrokerUnreachableError(f"no Kafka broker answered at {bootstrap!r} ({health.detail}); start one "
                                         f"(`donki kafka start`) or fix the bootstrap address")
        producer = make_producer(self.client_config, **self._producer_config)
        if self.check_topics:
            self._check_targets(producer)
        if self.speed is not None:
            self._wait_ready(producer)
        self.report.topics = {src: dst for (src, _), (dst, _) in self.targets().items()}
        return producer

    def _note_ready(self, stats: str) -> None:
        """Statistics callback: notes when the producer may send (a substring test, no JSON parse per call)."""
        if not self._ready.is_set() and (_ID_ASSIGNED.search(stats) or '"idemp_state"' not in stats):
            self._ready.set()

    def _wait_ready(self, producer: Any) -> None:
        """Before a paced replay's clock starts: wait until the producer holds no message back.

        It needs its idempotent producer id, and the leaders of the target topics: a topic's
        first produce would otherwise wait for that topic's metadata (measured: the first
        messages of a 1 kHz replay acknowledged 200 ms late, in one bunch).
        """
        deadline = time.monotonic() + READY_TIMEOUT_S
        for topic in sorted({target for target, _ in self.targets().values()}):
            producer.list_topics(topic, timeout=READY_TIMEOUT_S)
        while not self._ready.is_set() and time.monotonic() < deadline:
            producer.poll(READY_STATS_MS / 1e3)

    def _time_of(self, record: KafkaRecord) -> int:
        """The record's time on the replay clock, in integer ns (floats lose ns at epoch scale)."""
        if self.clock == "received":
            return int(round(record.received * 1e6)) * 1000
        if self.clock == "data":
            ns = data_time_ns(record.value)
            if ns is not None:
                return ns
        return record.timestamp_ms * 1_000_000

    def _loops(self) -> Iterator[int]:
        loop = 0
        while self.loops == 0 or loop < self.loops:
            yield loop
            loop += 1

    def _send_all(self, producer: Any) -> _Run:
        run = _Run(Retimer(self.shift_timestamps), Pacer(self.spin_s, self.catch_up_s), self.speed is not None)
        t_start = time.monotonic()
        if run.paced:
            gc.disable()  # a collection of the record buffer would stall a send by milliseconds
        try:
            for _ in self._loops():
                if not self._send_loop(producer, run) or self._stop.is_set():
                    break
                self.report.loops += 1
        finally:
            if run.paced:
                gc.enable()
        self.report.elapsed_s = time.monotonic() - t_start
        self.report.unshifted = run.retimer.unshifted
        if run.paced:
            self.report.timing = TimingError.measure(run.scheduled, run.actual, run.due)
            self.report.resyncs, self.report.resync_s = run.pacer.resyncs, run.pacer.shift_s
        return run

    def _send_loop(self, producer: Any, run: _Run) -> bool:
        """One pass over the selection; false if stopped or there was nothing to send."""
        # paced means a speed was given (see _send_all)
        schedule = _Schedule(self.speed, self.max_gap_s) if run.paced and self.speed is not None else None
        # paced: small blocks read in the gaps between sends; flat out: large blocks, fewer reads
        feed = RecordFeed(self.recording, self.rows, block_rows=PACED_BLOCK_ROWS if run.paced else FAST_BLOCK_ROWS)
        if run.paced:
            feed.preload()
        first_t = last_t = 0
        count = 0
        needs_time = run.paced or self.shift_timestamps or self.loops != 1
        for record in feed:
            if self._stop.is_set():
                return False
            count += 1
            if needs_time:
                t = self._time_of(record)
                first_t = t if count == 1 else first_t
                last_t = t
            if schedule is not None:
                run.wait(run.loop_offset_s + schedule.offset(t), feed, producer)
            self._produce(producer, record, *run.retimer.apply(record, run.loop_shift_ns),
                          run.on_delivery(len(run.delivered) - 1) if schedule is not None else None)
        if count == 0:
            return False
        # the next loop starts one mean interval after this one's last message
        gap_ns = (last_t - first_t) // (count - 1) if count > 1 else 1_000_000_000
        if schedule is not None:
            self.report.clamped_gaps += schedule.clamped
            run.loop_offset_s += schedule.previous + gap_ns / 1e9 / schedule.speed
        run.loop_shift_ns += last_t - first_t + gap_ns
        return True

    def _produce(self, producer: Any, record: KafkaRecord, payload: bytes,
                 headers: tuple[tuple[str, bytes | None], ...], timestamp: int | None,
                 delivered: Callable[[Any, Any], None] | None = None) -> None:
        topic = self._topics.get(record.topic)
        if topic is None:
            topic = self._topics[record.topic] = self.map_topic(record.topic)
        stamp = 0 if timestamp is None else timestamp  # 0: the producer stamps the time of sending
        listed = list(headers) if headers else None
        extra = {} if delivered is None else {"on_delivery": self._paced_report(delivered)}
        try:
            producer.produce(topic, payload, record.key, partition=record.partition, timestamp=stamp, headers=listed,
                             **extra)
        except BufferError:  # the producer queue is full: let it drain
            self._produce_when_room(producer, (topic, payload, record.key, record.partition, stamp, listed), extra)
        report = self.report
        report.messages += 1
        report.bytes += len(payload)
        if self.speed is not None or report.messages % POLL_EVERY == 0:
            producer.poll(0)

    def _produce_when_room(self, producer: Any, args: tuple[Any, ...], extra: dict[str, Any]) -> None:
        topic, payload, key, partition, stamp, headers = args
        deadline = time.monotonic() + self.flush_timeout_s
        while True:
            producer.poll(QUEUE_FULL_WAIT_S)
            try:
                producer.produce(topic, payload, key, partition=partition, timestamp=stamp, headers=headers, **extra)
                return
            except BufferError:
                if time.monotonic() > deadline:
                    raise RecordingError(
                        f"replay: the producer queue stayed full for {self.flush_timeout_s:.0f} s") from None

    def _paced_report(self, delivered: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        """A paced message's callback: its delivery time, and failures counted as for every message."""
        def report(error: Any, message: Any) -> None:
            if error is None:
                delivered(error, message)
            else:
                self._failed(error, message)
        return report

    def _failed(self, error: Any, message: Any) -> None:
        """Delivery report callback; with ``delivery.report.only.error`` only failures arrive."""
        if error is not None:
            self.report.failed += 1
            self.report.first_failure = self.report.first_failure or f"{message.topic()}: {error.str()}"

    def _flush(self, producer: Any) -> None:
        remaining = producer.flush(self.flush_timeout_s)
        if remaining:
            self.report.failed += remaining
            self.report.first_failure = self.report.first_failure or \
                f"{remaining} message(s) not delivered within {self.flush_timeout_s:.0f} s"
        self.report.delivered = self.report.messages - self.report.failed

    # -- background use ---------------------------------------------------------------

    def start(self) -> Replayer:
        """Replay in a background thread (for endless loops or concurrent recording)."""
        self._thread = threading.Thread(target=self._run_in_thread, name="donki-replayer", daemon=True)
        self._thread.start()
        return self

    def _run_in_thread(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by stop()/wait()
            self._error = exc

    def wait(self, timeout_s: float) -> ReplayReport:
        """Wait for a background replay to finish; re-raises its error."""
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                raise RecordingError(f"replay did not finish within {timeout_s:.0f} s")
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self.report

    def request_stop(self) -> None:
        """Ask a running :meth:`run` to finish (safe from signal handlers and other threads)."""
        self._stop.set()

    def stop(self, timeout_s: float = STOP_JOIN_S) -> ReplayReport:
        """Stop a background replay after the current message; returns the report."""
        self._stop.set()
        return self.wait(timeout_s)
