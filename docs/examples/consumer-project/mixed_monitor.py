"""A small live-data service, the kind of consumer pytest-donki feeds in tests.

It follows one topic of an ESS-like instrument, decodes every message with
``streaming_data_types`` and keeps what a dashboard would show: how many messages of
each schema arrived, the sample temperature range (f144) and the last status (x5f2).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from confluent_kafka import Consumer
from streaming_data_types import deserialise_f144, deserialise_x5f2


class MixedMonitor:
    """Consumes ``topic`` in a background thread until :meth:`stop`."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.counts: Counter[str] = Counter()
        self.temperatures: list[float] = []
        self.last_status: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, topic: str, group_id: str | None = None) -> "MixedMonitor":
        # offsets are committed as messages are handled, as a real service does: tests can ask
        # Kafka whether the group has consumed everything (donki_replay's wait_consumed)
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group_id or f"monitor-{topic}",
                             "auto.offset.reset": "earliest", "enable.auto.commit": True,
                             "auto.commit.interval.ms": 100})
        consumer.subscribe([topic])
        self._thread = threading.Thread(target=self._loop, args=(consumer,), daemon=True)
        self._thread.start()
        return self

    def _loop(self, consumer: Consumer) -> None:
        try:
            while not self._stop.is_set():
                message = consumer.poll(0.1)
                if message is None or message.error():
                    continue
                payload = message.value()
                schema = payload[4:8].decode("ascii", "replace")
                if schema == "f144":
                    self.temperatures.append(float(deserialise_f144(payload).value))
                elif schema == "x5f2":
                    self.last_status = deserialise_x5f2(payload).status_json
                self.counts[schema] += 1
        finally:
            consumer.close()

    def wait_for(self, messages: int, timeout_s: float) -> bool:
        """True once ``messages`` messages arrived, False at the deadline."""
        deadline = time.monotonic() + timeout_s
        while sum(self.counts.values()) < messages and time.monotonic() < deadline:
            time.sleep(0.05)
        return sum(self.counts.values()) >= messages

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
