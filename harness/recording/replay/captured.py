"""Captured scenarios: a player that replays a recording's messages, a slice per trigger.

A capture of a real stream (``donki record`` on a beamline topic) then drives a
Director run like a generated stream: each trigger publishes the next slice of the
recording, payloads, keys and foreign headers as recorded, with fresh harness headers
(this player's stream name, the current trigger, its own gap-free ``seq``) and, by
default, timestamps moved so the slice's data carry the trigger's time.

How a recording is cut into slices (``split``):

``trigger``  the messages of each recorded ``donki.trigger`` (a harness run's capture)
``time``     consecutive periods of the player's rate on the recorded clock
``count``    ``messages_per_trigger`` messages each
``auto``     ``trigger`` when every selected message has a trigger header, else ``time``
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.errors import ScenarioError
from harness.headers import make_headers
from harness.orchestra.ack import AckAfter
from harness.orchestra.action import ActionResult
from harness.recording import format as fmt
from harness.recording.fbtime import shift_times
from harness.records import KafkaRecord

if TYPE_CHECKING:
    from harness.recording.reader.reader import Recording
    from harness.streams.actions import PlayerSettings

__all__ = ["CapturedAction", "CapturedOptions", "plan_slices", "captured_action"]
#: Selections up to this size are read into memory at setup; larger ones per trigger.
PRELOAD_BYTES = 256 << 20
TEARDOWN_FLUSH_S = 30.0
_POLL_SLICE_S = 0.05


@dataclass(frozen=True)
class CapturedOptions:
    """The validated parameters of a ``captured`` player."""

    recording: str
    topics: tuple[str, ...] = ()
    streams: tuple[str, ...] = ()
    split: str = "auto"
    messages_per_trigger: int = 1
    time_base: str = "timestamp"
    loop: bool = True
    shift_timestamps: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CapturedOptions:
        return cls(str(params["recording"]), tuple(params.get("topics") or ()), tuple(params.get("streams") or ()),
                   str(params.get("split", "auto")), int(params.get("messages_per_trigger", 1)),
                   str(params.get("time_base", "timestamp")), bool(params.get("loop", True)),
                   bool(params.get("shift_timestamps", True)))


def _times_ns(index: np.ndarray, time_base: str) -> np.ndarray:
    if time_base == "received":
        return np.round(index["receive_time"] * 1e6).astype(np.int64) * 1000
    return index["timestamp"].astype(np.int64) * 1_000_000


def plan_slices(index: np.ndarray, rows: np.ndarray, options: CapturedOptions,
                rate_hz: float) -> tuple[list[np.ndarray], list[int]]:
    """The rows of each trigger's slice and the recorded start time (ns) of each slice."""
    split = options.split
    triggers = index["trigger"][rows]
    if split == "auto":
        split = "trigger" if len(rows) and (triggers != fmt.NO_TRIGGER).all() else "time"
    times = _times_ns(index[rows], options.time_base)
    if split == "trigger":
        if (triggers == fmt.NO_TRIGGER).any():
            raise ScenarioError(f"captured recording {options.recording}: split='trigger' but some selected messages "
                                f"have no donki.trigger header; use split='time' or 'count'")
        slices = [rows[triggers == t] for t in np.unique(triggers)]
    elif split == "count":
        per = options.messages_per_trigger
        slices = [rows[i:i + per] for i in range(0, len(rows), per)]
    else:
        period = 1e9 / rate_hz
        slot = ((times - times.min()) // period).astype(np.int64) if len(rows) else np.zeros(0, np.int64)
        counts = np.bincount(slot) if len(rows) else np.zeros(0, np.int64)
        order = np.argsort(slot, kind="stable")
        slices = np.split(rows[order], np.cumsum(counts)[:-1]) if len(rows) else []
        starts = [int(times.min() + k * period) for k in range(len(slices))]
        return slices, starts
    position = {int(r): i for i, r in enumerate(rows)}
    return slices, [int(times[position[int(s[0])]]) if len(s) else 0 for s in slices]


class _Publisher:
    """The captured stream's producer: per-trigger delivery tallies, as the stream players keep."""

    def __init__(self, client_config: Mapping[str, Any], topic: str, settings: Mapping[str, Any]) -> None:
        from harness.kafka.clients import make_producer
        from harness.streams.producer import TriggerTally

        self._tally_type = TriggerTally
        self.topic = topic
        self.producer = make_producer(client_config, **dict(settings))
        self.partitions = self._partition_count()
        self.tallies: dict[int, Any] = {}
        self.total = TriggerTally(0)
        self._taken = (0, 0)

    def _partition_count(self) -> int:
        metadata = self.producer.list_topics(self.topic, timeout=30)
        info = metadata.topics.get(self.topic)
        if info is None or info.error is not None or not info.partitions:
            raise ScenarioError(f"captured stream: topic {self.topic!r} does not exist")
        return len(info.partitions)

    def publish(self, trigger: int, record: KafkaRecord, payload: bytes, headers: list[tuple[str, bytes | None]],
                stamp: int) -> None:
        tally = self.tallies.setdefault(trigger, self._tally_type(trigger))

        def delivered(error: Any, message: Any) -> None:
            tally.on_delivery(error, message)
            self.total.on_delivery(error, message)

        partition = record.partition % self.partitions  # one recorded partition stays one partition
        while True:
            try:
                self.producer.produce(self.topic, payload, record.key, partition=partition, headers=[*headers],
                                      timestamp=stamp, on_delivery=delivered)
                break
            except BufferError:
                self.producer.poll(_POLL_SLICE_S)
        for part in (tally, self.total):
            part.sent += 1
            part.bytes += len(payload)

    def wait_delivered(self, trigger: int, timeout_s: float) -> Any:
        tally = self.tallies.get(trigger) or self._tally_type(trigger)
        deadline = time.monotonic() + timeout_s
        while tally.pending > 0 and time.monotonic() < deadline:
            self.producer.poll(min(_POLL_SLICE_S, max(0.0, deadline - time.monotonic())))
        return tally

    def reports_since_last(self) -> tuple[int, int]:
        self.producer.poll(0)
        delivered, failed = self.total.delivered - self._taken[0], self.total.failed - self._taken[1]
        self._taken = (self.total.delivered, self.total.failed)
        return delivered, failed

    def close(self, timeout_s: float) -> int:
        return self.producer.flush(timeout_s)


class CapturedAction:
    """Per trigger, publish the next slice of a recording (see the module docstring)."""

    def __init__(self, options: CapturedOptions, settings: PlayerSettings, context: Mapping[str, Any]) -> None:
        self.options = options
        self.settings = settings
        self.context = dict(context)
        self.stream = str(context.get("name") or "captured")
        self.seq = 0
        self.calls = 0
        self.slices: list[np.ndarray] = []
        self.slice_starts: list[int] = []
        self._recording: Recording | None = None
        self._preloaded: dict[int, KafkaRecord] | None = None
        self._publisher: _Publisher | None = None
        self.start_ns = settings.start_ns

    # -- lifetime ---------------------------------------------------------------------

    def setup(self) -> None:
        from harness.recording.reader.reader import Recording
        from harness.streams.actions import client_config_for

        path = Path(self.options.recording)
        recording = self._recording = Recording(path)
        rows = recording.select(topics=self.options.topics or None, streams=self.options.streams or None)
        if not len(rows):
            topics, streams = list(self.options.topics) or "all", list(self.options.streams) or "all"
            raise ScenarioError(f"captured stream {self.stream!r}: {path} has no messages for topics "
                                f"{topics} and streams {streams}")
        self.slices, self.slice_starts = plan_slices(recording.index, rows, self.options, self.settings.rate_hz)
        if int(recording.index["payload_length"][rows].sum()) <= PRELOAD_BYTES:
            self._preloaded = dict(zip(rows.tolist(), recording.records(rows), strict=True))
        topic = self.context.get("topic")
        if not topic:
            raise ScenarioError(f"captured stream {self.stream!r}: no topic in the player's context")
        self._publisher = _Publisher(client_config_for(self.context), str(topic), self.settings.producer)
        if self.start_ns is None:
            self.start_ns = time.time_ns()

    def teardown(self) -> None:
        left = self._publisher.close(TEARDOWN_FLUSH_S) if self._publisher is not None else 0
        if self._recording is not None:
            self._recording.close()
        if left:
            from harness.errors import BrokerError

            raise BrokerError(f"captured stream {self.stream!r}: {left} message(s) still undelivered "
                              f"{TEARDOWN_FLUSH_S:.0f} s after the last trigger")

    # -- triggers ---------------------------------------------------------------------

    def _slice_for_call(self) -> int | None:
        self.calls += 1
        index = self.calls - 1
        if index >= len(self.slices):
            if not self.options.loop:
                return None
            index %= len(self.slices)
        return index

    def _set_up(self) -> tuple[Recording, _Publisher, int]:
        if self._recording is None or self._publisher is None or self.start_ns is None:
            raise ScenarioError(f"captured stream {self.stream!r}: triggered before its setup()")
        return self._recording, self._publisher, self.start_ns

    def _data_time_ns(self, trigger: int) -> int:
        if self.settings.clock == "nominal":
            return self._set_up()[2] + round((trigger - 1) * 1e9 / self.settings.base_rate_hz)
        return time.time_ns()

    def _records(self, rows: np.ndarray) -> list[KafkaRecord]:
        if self._preloaded is not None:
            return [self._preloaded[int(r)] for r in rows]
        return list(self._set_up()[0].records(rows))

    def __call__(self, trigger: int) -> ActionResult:
        publisher = self._set_up()[1]
        which = self._slice_for_call()
        if which is None:
            return self._result(trigger)
        delta_ns = self._data_time_ns(trigger) - self.slice_starts[which] if self.options.shift_timestamps else 0
        for record in self._records(self.slices[which]):
            payload = shift_times(record.value, delta_ns) if delta_ns else record.value
            headers = make_headers(self.stream, trigger, self.seq, payload,
                                   [(k, v) for k, v in record.headers if not k.startswith("donki.")])
            stamp = record.timestamp_ms + delta_ns // 1_000_000 if record.timestamp_type else 0
            publisher.publish(trigger, record, payload, headers, stamp)
            self.seq += 1
        publisher.producer.poll(0)
        return self._result(trigger)

    def _result(self, trigger: int) -> ActionResult:
        tally = self._publisher.tallies.get(trigger) if self._publisher else None
        sent, size = (tally.sent, tally.bytes) if tally else (0, 0)
        if self.settings.ack is AckAfter.DELIVERY:
            return ActionResult(messages=sent, bytes=size, delivered=tally.delivered if tally else 0,
                                failed=tally.failed if tally else 0)
        delivered, failed = self._set_up()[1].reports_since_last()
        return ActionResult(messages=sent, bytes=size, delivered=delivered, failed=failed)

    def wait_delivered(self, trigger: int, timeout_s: float) -> ActionResult:
        tally = self._set_up()[1].wait_delivered(trigger, timeout_s)
        return ActionResult(messages=tally.sent, bytes=tally.bytes, delivered=tally.delivered, failed=tally.failed,
                            extra={"pending": tally.pending})


def captured_action(params: Mapping[str, Any], context: Mapping[str, Any]) -> CapturedAction:
    """The action factory of stream kind ``captured`` (``factory(params, context)``)."""
    from harness.kinds import get_stream_kind
    from harness.streams.actions import PlayerSettings

    settings, stream_params = PlayerSettings.from_params(params)
    name = str(context.get("name") or "captured")
    resolved = get_stream_kind("captured").resolve(stream_params, f"player {name!r} params")
    return CapturedAction(CapturedOptions.from_params(resolved), settings, context)
