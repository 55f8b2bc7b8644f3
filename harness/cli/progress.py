"""Live progress of ``donki run``, ``record`` and ``replay``: one line, updated in place on a terminal.

A command gives :class:`LiveStatus` a ``sample()`` that returns its current figures
(triggers/s, messages, MB, lag...). On a terminal (stderr) rich redraws them a few times a
second; on a pipe or a file a plain ``donki <command>: ...`` line is printed every
:data:`PLAIN_EVERY_S` seconds, so logs stay readable. :class:`TopicWatcher` measures a
run from outside: it reads the run's topics as a consumer and counts messages, bytes and
triggers (from the ``donki.trigger`` header), and the lag behind the topics' ends.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Self

from harness.cli.output import console, is_terminal

__all__ = ["PLAIN_EVERY_S", "LiveStatus", "TopicWatcher", "format_figures"]

PLAIN_EVERY_S = 5.0
REFRESH_PER_S = 4
RATE_WINDOW_S = 2.0  # triggers/s over the last seconds, so a stall shows at once
LAG_EVERY_S = 0.5
CATCH_UP_S = 3.0

Sample = Callable[[], Mapping[str, Any]]


def format_figures(figures: Mapping[str, Any]) -> str:
    """``{"messages": 12, "MB": 0.25}`` -> ``messages 12 · MB 0.25`` (floats with 3 significant digits)."""
    parts = []
    for key, value in figures.items():
        text = f"{value:.3g}" if isinstance(value, float) else str(value)
        parts.append(f"{key} {text}")
    return " · ".join(parts)


class LiveStatus:
    """Shows ``sample()`` while the ``with`` block runs, then a final plain line."""

    def __init__(self, command: str, sample: Sample, *, plain_every_s: float = PLAIN_EVERY_S,
                 live: bool | None = None) -> None:
        self.command, self.sample, self.plain_every_s = command, sample, plain_every_s
        self.live = is_terminal(sys.stderr) if live is None else live
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    def _line(self) -> str:
        try:
            figures = dict(self.sample())
        except Exception as exc:  # noqa: BLE001 - a failing sample must not end the command it watches
            return f"({type(exc).__name__}: {exc})"
        return format_figures({"elapsed s": round(time.monotonic() - self._started, 1), **figures})

    def __enter__(self) -> Self:
        target = self._live if self.live else self._plain
        self._thread = threading.Thread(target=target, name=f"donki-{self.command}-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        if not self.live:
            print(f"donki {self.command}: {self._line()}", file=sys.stderr, flush=True)

    def _live(self) -> None:
        from rich.live import Live
        from rich.text import Text

        def render() -> Text:
            return Text.assemble((f"donki {self.command} ", "bold cyan"), self._line())

        with Live(get_renderable=render, console=console(stderr=True), refresh_per_second=REFRESH_PER_S,
                  transient=False):
            self._stop.wait()

    def _plain(self) -> None:
        while not self._stop.wait(self.plain_every_s):
            print(f"donki {self.command}: {self._line()}", file=sys.stderr, flush=True)


class TopicWatcher:
    """Counts what arrives on ``topics`` (read from their beginning) in a background thread."""

    def __init__(self, client_config: Mapping[str, Any], topics: list[str], *, wait_s: float = 60.0) -> None:
        self.client_config, self.topics, self.wait_s = dict(client_config), list(topics), wait_s
        self.messages = self.bytes = 0
        self.lag: int | None = None
        self._triggers: dict[str, int] = {}
        self._recent: deque[tuple[float, int]] = deque()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="donki-topic-watcher", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    @property
    def triggers(self) -> int:
        """The highest trigger number seen on any stream."""
        return max(self._triggers.values(), default=0)

    def triggers_per_s(self) -> float:
        """Triggers per second over the last :data:`RATE_WINDOW_S` seconds."""
        recent = list(self._recent)
        if len(recent) < 2 or recent[-1][0] <= recent[0][0]:
            return 0.0
        return (recent[-1][1] - recent[0][1]) / (recent[-1][0] - recent[0][0])

    def sample(self) -> dict[str, Any]:
        return {"triggers": self.triggers, "triggers/s": round(self.triggers_per_s(), 1), "messages": self.messages,
                "MB": round(self.bytes / 1e6, 2), "lag": "?" if self.lag is None else self.lag}

    def _watch(self) -> None:
        from harness.kafka.clients import make_consumer

        consumer = make_consumer(self.client_config, group=None, **{"enable.partition.eof": False})
        try:
            partitions = self._assign(consumer)
            last_lag = 0.0
            while not self._stop.is_set():
                self._poll(consumer)
                if partitions and time.monotonic() - last_lag > LAG_EVERY_S:
                    self.lag, last_lag = self._lag(consumer, partitions), time.monotonic()
            self._catch_up(consumer, partitions)
        finally:
            consumer.close()

    def _poll(self, consumer: Any) -> None:
        for message in consumer.consume(500, 0.2):
            if not message.error():
                self._count(message)
        now = time.monotonic()
        self._recent.append((now, self.triggers))
        while self._recent and now - self._recent[0][0] > RATE_WINDOW_S:
            self._recent.popleft()

    def _catch_up(self, consumer: Any, partitions: list[Any]) -> None:
        """Once stopped, read on to the topics' ends (briefly), so the last figures are the run's."""
        deadline = time.monotonic() + CATCH_UP_S
        while partitions and time.monotonic() < deadline:
            self.lag = self._lag(consumer, partitions)
            if self.lag == 0:
                return
            self._poll(consumer)

    def _assign(self, consumer: Any) -> list[Any]:
        """Wait for the run's topics to exist, then read every partition from the beginning."""
        from confluent_kafka import OFFSET_BEGINNING, TopicPartition

        deadline = time.monotonic() + self.wait_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            metadata = consumer.list_topics(timeout=2.0).topics
            if all(t in metadata and metadata[t].partitions for t in self.topics):
                partitions = [TopicPartition(t, p, OFFSET_BEGINNING) for t in self.topics
                              for p in metadata[t].partitions]
                consumer.assign(partitions)
                return partitions
            self._stop.wait(0.2)
        return []

    def _count(self, message: Any) -> None:
        from harness.headers import parse_headers

        self.messages += 1
        self.bytes += len(message.value() or b"")
        try:
            meta = parse_headers(message.headers())
        except Exception:  # noqa: BLE001 - a malformed header is the checks' business, not the progress line's
            return
        if meta is not None and meta.trigger > self._triggers.get(meta.stream, 0):
            self._triggers[meta.stream] = meta.trigger

    def _lag(self, consumer: Any, partitions: list[Any]) -> int | None:
        """Offsets between where this reader is and the partitions' ends (transaction markers included)."""
        try:
            lag = 0
            for position in consumer.position(partitions):
                low, high = consumer.get_watermark_offsets(position, timeout=1.0, cached=False)
                lag += high - (position.offset if position.offset >= 0 else low)
        except Exception:  # noqa: BLE001 - a metadata hiccup only blanks the lag figure
            return None
        return max(0, lag)
