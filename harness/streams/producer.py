"""Publishing a stream's messages to Kafka, with delivery reports counted per trigger.

Throughput first: messages are handed to librdkafka without a flush per message (it
batches them), delivery reports are served by non-blocking polls between produces,
and only a caller that wants ack-after-delivery waits, for its trigger only.

Every wait also watches the cluster (a :class:`~harness.kafka.brokerwatch.BrokerWatch`
fed by librdkafka's error callback): when no broker answered for ``broker_grace_s`` it
raises :class:`~harness.errors.BrokerLostError` instead of waiting out its deadline, so
a dead broker ends a run in seconds, not after every trigger's ack timeout.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import BrokerError
from harness.headers import make_headers
from harness.kafka.brokerwatch import DEFAULT_GRACE_S, BrokerWatch
from harness.streams.base import StreamMessage
from harness.streams.faults import NO_FAULTS, Faults

__all__ = ["TriggerTally", "StreamPublisher", "QUEUE_FULL_TIMEOUT_S"]

#: how long produce() may wait for room in librdkafka's queue before the trigger fails
QUEUE_FULL_TIMEOUT_S = 30.0
#: how long start() waits for the topic's metadata and the idempotent producer id
WARM_UP_TIMEOUT_S = 30.0
_STATS_INTERVAL_MS = 100
_POLL_SLICE_S = 0.05
#: finished triggers kept for wait_delivered() after their last report arrived
_DONE_KEPT = 1024
#: a flush is cut into slices this long, so a lost broker is noticed between them
_FLUSH_SLICE_S = 0.5


@dataclass
class TriggerTally:
    """Messages of one trigger: handed to Kafka, confirmed, failed (with the first error)."""

    trigger: int
    sent: int = 0
    bytes: int = 0
    delivered: int = 0
    failed: int = 0
    first_error: str = ""
    first_timestamp_ms: int | None = None
    last_timestamp_ms: int | None = None

    @property
    def pending(self) -> int:
        return self.sent - self.delivered - self.failed

    def on_delivery(self, error: Any, _message: Any) -> None:
        # runs in the thread that polls the producer; only that thread touches the tally
        if error is None:
            self.delivered += 1
        else:
            self.failed += 1
            if not self.first_error:
                self.first_error = str(error)


class StreamPublisher:
    """Produces one stream's messages to ``topic`` with harness headers.

    ``seq`` counts the stream's messages from 0 without gaps (header ``donki.seq``);
    :meth:`total` sums every trigger. Not thread-safe: one player thread uses it.
    """

    def __init__(self, client_config: Mapping[str, Any], topic: str, stream: str,
                 producer_settings: Mapping[str, Any] | None = None, faults: Faults = NO_FAULTS,
                 broker_grace_s: float = DEFAULT_GRACE_S) -> None:
        self.client_config = dict(client_config)
        self.watch = BrokerWatch(str(self.client_config.get("bootstrap.servers", "?")), grace_s=broker_grace_s)
        self.faults = faults
        self.topic = topic
        self.stream = stream
        self.producer_settings = dict(producer_settings or {})
        self.seq = 0
        self._retired = TriggerTally(trigger=0)
        self._tallies: dict[int, TriggerTally] = {}
        self._done: OrderedDict[int, TriggerTally] = OrderedDict()
        self._producer: Any = None
        self._producer_id_ready = False
        self._taken: tuple[int, int, str] = (0, 0, "")

    def start(self, warm_up_s: float = 0.0) -> None:
        """Create the producer (idempotent); with ``warm_up_s`` also get ready to send at once.

        Warming up fetches the topic's metadata and waits for the producer id of the
        idempotent producer (librdkafka takes ~0.5 s for it), so that the first trigger
        of a run is not slower than the others. It never fails: a producer not ready
        within ``warm_up_s`` simply warms up on its first message.
        """
        if self._producer is not None:
            return
        from harness.kafka.clients import make_producer, producer_config

        settings = dict(self.producer_settings)
        settings.setdefault("error_cb", self.watch.error_cb)
        idempotent = str(producer_config(self.client_config, **settings).get("enable.idempotence")).lower() == "true"
        if warm_up_s > 0 and idempotent and "statistics.interval.ms" not in settings:
            settings.update({"statistics.interval.ms": _STATS_INTERVAL_MS, "stats_cb": self._on_stats})
        self._producer = make_producer(self.client_config, **settings)
        if warm_up_s > 0:
            self._warm_up(warm_up_s, wait_for_id=idempotent)

    def _warm_up(self, timeout_s: float, wait_for_id: bool) -> None:
        deadline = time.monotonic() + timeout_s
        try:
            self._producer.list_topics(self.topic, timeout=timeout_s)
        except Exception:  # noqa: BLE001 - not ready yet is fine: the first produce retries
            return
        while wait_for_id and not self._producer_id_ready and time.monotonic() < deadline:
            self._producer.poll(_POLL_SLICE_S)

    def _on_stats(self, text: str) -> None:
        if not self._producer_id_ready:
            import json

            self._producer_id_ready = (json.loads(text).get("eos") or {}).get("idemp_state") == "Assigned"

    def publish(self, trigger: int, messages: Sequence[StreamMessage]) -> TriggerTally:
        """Hand ``messages`` to Kafka for ``trigger``; returns its tally (deliveries so far)."""
        self.start()
        tally = self._tallies.setdefault(trigger, TriggerTally(trigger))
        numbered = list(enumerate(messages, start=self.seq))
        self.seq += len(numbered)
        if self.faults.any:
            numbered = self.faults.order(numbered)
        for seq, message in numbered:
            self._produce(tally, seq, message)
        self._producer.poll(0)
        return tally

    def _produce(self, tally: TriggerTally, seq: int, message: StreamMessage) -> None:
        headers = make_headers(self.stream, tally.trigger, seq, message.payload)
        if seq in self.faults.drop:
            self._count(tally, message)
            tally.delivered += 1  # a lost message that the producer believes delivered
            return
        payload = self.faults.damage(seq, message.payload)
        deadline = time.monotonic() + QUEUE_FULL_TIMEOUT_S
        while True:
            try:
                self._producer.produce(self.topic, payload, message.key, headers=headers,
                                       timestamp=message.timestamp_ms, on_delivery=tally.on_delivery)
                break
            except BufferError:
                # librdkafka's queue is full: serve delivery reports until there is room
                self.watch.check()
                if time.monotonic() > deadline:
                    raise BrokerError(
                        f"stream {self.stream!r}: Kafka's send queue stayed full for {QUEUE_FULL_TIMEOUT_S:.0f} s "
                        f"publishing to {self.topic!r} at {self.client_config.get('bootstrap.servers')}; "
                        "the broker does not keep up or is unreachable") from None
                self._producer.poll(_POLL_SLICE_S)
        self._count(tally, message)

    @staticmethod
    def _count(tally: TriggerTally, message: StreamMessage) -> None:
        tally.sent += 1
        tally.bytes += len(message.payload)
        if tally.first_timestamp_ms is None:
            tally.first_timestamp_ms = message.timestamp_ms
        tally.last_timestamp_ms = message.timestamp_ms

    def wait_delivered(self, trigger: int, timeout_s: float) -> TriggerTally:
        """Block until Kafka confirmed or failed every message of ``trigger``, or ``timeout_s``.

        Raises :class:`~harness.errors.BrokerLostError` as soon as no broker answered for
        the watch's grace, rather than waiting for a cluster that is gone.
        """
        tally = self.tally(trigger) or TriggerTally(trigger)
        deadline = time.monotonic() + timeout_s
        while tally.pending > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            delivered = tally.delivered
            self._producer.poll(min(remaining, _POLL_SLICE_S))
            if tally.delivered > delivered:
                self.watch.saw_broker()
            self.watch.check()
        self._retire_done()
        return tally

    def wait_in_flight(self, limit: int, timeout_s: float) -> int:
        """Block until fewer than ``limit`` triggers await Kafka's confirmation, or ``timeout_s``.

        Returns how many triggers are still in flight. A player acking after send calls it
        before each trigger, so generating pulse ``n`` overlaps the delivery of at most
        ``limit - 1`` earlier ones, and librdkafka's queue never holds an unbounded backlog
        that a drain at the end of the run would hide. Raises
        :class:`~harness.errors.BrokerLostError` when the cluster is lost meanwhile.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            self._retire_done()
            in_flight = len(self._tallies)  # retired: every tally left has messages pending
            remaining = deadline - time.monotonic()
            if in_flight < limit or remaining <= 0 or self._producer is None:
                return in_flight
            delivered = self.total().delivered
            self._producer.poll(min(remaining, _POLL_SLICE_S))
            if self.total().delivered > delivered:
                self.watch.saw_broker()
            self.watch.check()

    def poll(self) -> None:
        """Serve delivery reports that have arrived (non-blocking)."""
        if self._producer is not None:
            self._producer.poll(0)
            self._retire_done()

    def flush(self, timeout_s: float) -> int:
        """Wait up to ``timeout_s`` for every message; returns how many are still pending.

        Raises :class:`~harness.errors.BrokerLostError` when the cluster is lost meanwhile.
        """
        if self._producer is None:
            return 0
        deadline = time.monotonic() + timeout_s
        remaining = len(self._producer)
        while True:
            before = remaining
            remaining = int(self._producer.flush(max(0.0, min(_FLUSH_SLICE_S, deadline - time.monotonic()))))
            if remaining < before:
                self.watch.saw_broker()
            if remaining == 0 or time.monotonic() >= deadline:
                break
            self.watch.check()
        self._retire_done()
        return remaining

    def tally(self, trigger: int) -> TriggerTally | None:
        """The tally of ``trigger`` (pending or recently finished), ``None`` if unknown."""
        return self._tallies.get(trigger) or self._done.get(trigger)

    def take_reports(self) -> tuple[int, int, str]:
        """``(delivered, failed, first error)`` reported by Kafka since the last call."""
        self.poll()
        total = self.total()
        delivered, failed = total.delivered - self._taken[0], total.failed - self._taken[1]
        error = total.first_error if failed and total.first_error != self._taken[2] else ""
        self._taken = (total.delivered, total.failed, total.first_error)
        return delivered, failed, error

    def total(self) -> TriggerTally:
        """Every trigger so far summed (``trigger`` 0), including those still pending."""
        total = TriggerTally(0)
        for part in (self._retired, *self._tallies.values()):
            total.sent += part.sent
            total.bytes += part.bytes
            total.delivered += part.delivered
            total.failed += part.failed
            total.first_error = total.first_error or part.first_error
        return total

    def _retire_done(self) -> None:
        # finished triggers are summed into totals and dropped, so memory stays flat in long runs
        for trigger in [t for t, tally in self._tallies.items() if tally.pending == 0]:
            done = self._tallies.pop(trigger)
            self._retired.sent += done.sent
            self._retired.bytes += done.bytes
            self._retired.delivered += done.delivered
            self._retired.failed += done.failed
            self._retired.first_error = self._retired.first_error or done.first_error
            self._done[trigger] = done
            if len(self._done) > _DONE_KEPT:
                self._done.popitem(last=False)

    def close(self, timeout_s: float = 10.0) -> int:
        """Flush with a deadline and drop the producer; returns messages left undelivered."""
        try:
            return self.flush(timeout_s)
        finally:
            self._producer = None
