"""Player actions that publish streams to Kafka: one trigger in, its messages out.

A player gets its action from the stream kind's factory, ``factory(params, context)``:
``params`` is the player's params table plus the reserved key ``player`` (rate, clock,
producer settings, set by the scenario runner), ``context`` the orchestra's (``name``,
``bootstrap``, ``topic``, ``seed``). The player's name is the stream name in the
``donki.stream`` header, so two players of one kind stay apart.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import BrokerError, ScenarioError
from harness.kinds import get_stream_kind
from harness.orchestra.ack import AckAfter
from harness.orchestra.action import ActionResult
from harness.streams.base import StreamGenerator
from harness.streams.faults import NO_FAULTS, Faults
from harness.streams.generators import make_generator
from harness.streams.producer import StreamPublisher, TriggerTally
from harness.streams.runcontrol import RunControlGenerator

__all__ = [
    "PLAYER_KEY",
    "CLOCKS",
    "MAX_TRIGGERS_IN_FLIGHT",
    "PlayerSettings",
    "StreamAction",
    "RunControlAction",
    "generator_action_factory",
    "run_control_action",
    "client_config_for",
]

#: reserved key of an action's params: settings of the player rather than of the stream
PLAYER_KEY = "player"
CLOCKS = ("wall", "nominal")
#: triggers a player acking after send may have handed to Kafka unconfirmed: generating and
#: serialising pulse n overlaps the delivery of pulses n-1 and n-2, never of an unbounded backlog
MAX_TRIGGERS_IN_FLIGHT = 3
#: how long a trigger waits for room among the triggers in flight before it goes on regardless
IN_FLIGHT_WAIT_S = 10.0
TEARDOWN_FLUSH_S = 30.0
CONTROL_DELIVERY_S = 30.0
WARM_UP_S = 5.0


@dataclass(frozen=True)
class PlayerSettings:
    """How a player times and publishes its stream.

    ``clock="wall"`` stamps each trigger's data with the wall clock when the trigger
    arrives (the achieved rate shows in the timestamps); ``"nominal"`` stamps trigger
    ``n`` with ``start_ns + (n - 1) / base_rate_hz`` (reproducible timestamps).
    ``ack`` is the player's :class:`~harness.orchestra.ack.AckAfter`; it decides what the
    delivery counts of a result mean.
    """

    rate_hz: float = 1.0
    base_rate_hz: float = 1.0
    clock: str = "wall"
    start_ns: int | None = None
    producer: dict[str, Any] = field(default_factory=dict)
    ack: AckAfter = AckAfter.DELIVERY
    last_trigger: int | None = None  # the player's last due trigger, when the run length is known
    faults: Faults = NO_FAULTS
    longest_period_s: float = 0.0  # the slowest player's period: its last messages spread that far
    topic_prefix: str = ""  # the run's topic namespace ("<prefix>."), for topics named inside payloads

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> tuple[PlayerSettings, dict[str, Any]]:
        """Split the action's params into player settings and the stream's own params."""
        stream_params = dict(params)
        raw = dict(stream_params.pop(PLAYER_KEY, None) or {})
        known = {"rate_hz", "base_rate_hz", "clock", "start_ns", "producer", "ack", "last_trigger", "faults",
                 "longest_period_s", "topic_prefix"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ScenarioError(f"player settings: unknown key(s) {unknown}")
        rate = float(raw.get("rate_hz", 1.0))
        settings = cls(rate, float(raw.get("base_rate_hz", rate)), str(raw.get("clock", "wall")),
                       raw.get("start_ns"), dict(raw.get("producer") or {}),
                       AckAfter.parse(raw.get("ack", AckAfter.DELIVERY.value), "player settings"),
                       None if raw.get("last_trigger") is None else int(raw["last_trigger"]),
                       Faults.from_params(raw.get("faults"), "player settings: faults"),
                       float(raw.get("longest_period_s", 0.0)), str(raw.get("topic_prefix") or ""))
        if settings.clock not in CLOCKS:
            raise ScenarioError(f"player settings: clock={settings.clock!r}; expected one of: {', '.join(CLOCKS)}")
        if settings.rate_hz <= 0 or settings.base_rate_hz <= 0:
            raise ScenarioError(f"player settings: rates must be positive, got {settings}")
        if not 0 <= settings.longest_period_s <= 86_400:
            raise ScenarioError(f"player settings: longest_period_s={settings.longest_period_s!r}; expected 0..86400")
        return settings, stream_params


def client_config_for(context: Mapping[str, Any]) -> dict[str, Any]:
    """Kafka client settings of a player: its bootstrap plus security from ``DONKI_KAFKA_*``."""
    from harness.kafka.external import security_from_env

    bootstrap = context.get("bootstrap")
    if not bootstrap:
        raise ScenarioError(f"player {context.get('name')!r}: no Kafka bootstrap address in its context")
    return {"bootstrap.servers": bootstrap, **security_from_env(os.environ)}


def _result(tally: TriggerTally) -> ActionResult:
    extra: dict[str, Any] = {"pending": tally.pending, "first_timestamp_ms": tally.first_timestamp_ms,
             "last_timestamp_ms": tally.last_timestamp_ms}
    if tally.first_error:
        extra["error"] = tally.first_error
    return ActionResult(messages=tally.sent, bytes=tally.bytes, delivered=tally.delivered, failed=tally.failed,
                        extra=extra)


class StreamAction:
    """Per trigger: generate the stream's messages and hand them to Kafka.

    Ack after delivery: the player calls :meth:`wait_delivered`, which returns the
    trigger's counts once Kafka confirmed (or failed) each of its messages, or the
    deadline passed. Ack after send: the result's ``delivered`` and ``failed`` count the
    reports that arrived since the previous ack (of any trigger, as Kafka confirms them
    later), so the acks of a run sum up to what Kafka confirmed while it ran; at most
    :data:`MAX_TRIGGERS_IN_FLIGHT` triggers are unconfirmed when a trigger starts (it
    waits for the oldest first), so the pipeline overlaps pulses without a hidden backlog.
    """

    def __init__(self, generator: StreamGenerator, publisher: StreamPublisher, settings: PlayerSettings) -> None:
        self.generator = generator
        self.publisher = publisher
        self.settings = settings
        self.start_ns = settings.start_ns

    def setup(self) -> None:
        import streaming_data_types  # noqa: F401 - its first import (~0.1 s) must not delay trigger 1

        self.publisher.start(warm_up_s=WARM_UP_S)
        if self.start_ns is None:
            self.start_ns = time.time_ns()

    def data_time_ns(self, trigger: int) -> int:
        """The time the data of ``trigger`` carry."""
        if self.settings.clock == "nominal":
            if self.start_ns is None:
                self.start_ns = time.time_ns()
            return self.start_ns + round((trigger - 1) * 1e9 / self.settings.base_rate_hz)
        return time.time_ns()

    def __call__(self, trigger: int) -> ActionResult:
        self.settings.faults.before_trigger(trigger)
        if self.settings.ack is AckAfter.SEND:
            self.publisher.wait_in_flight(MAX_TRIGGERS_IN_FLIGHT, IN_FLIGHT_WAIT_S)
        messages = self.generator.messages(trigger, self.data_time_ns(trigger))
        return self._reported(self.publisher.publish(trigger, messages))

    def _reported(self, tally: TriggerTally) -> ActionResult:
        if self.settings.ack is AckAfter.DELIVERY:
            return _result(tally)
        result = _result(tally)
        result.delivered, result.failed, error = self.publisher.take_reports()
        if error:
            result.extra["error"] = error
        return result

    def wait_delivered(self, trigger: int, timeout_s: float) -> ActionResult:
        return _result(self.publisher.wait_delivered(trigger, timeout_s))

    def teardown(self) -> None:
        left = self.publisher.close(TEARDOWN_FLUSH_S)
        if left:
            raise BrokerError(f"stream {self.publisher.stream!r}: {left} message(s) to {self.publisher.topic!r} "
                              f"still undelivered {TEARDOWN_FLUSH_S:.0f} s after the last trigger")


class RunControlAction(StreamAction):
    """pl72 run start on the player's first trigger, 6s4t run stop on its last.

    Give the run-control player the lowest priority level: on trigger 1 its run start
    is then published (and, with ack-after-delivery, confirmed) before any data; it is
    stamped with the run's start time, so no player's data come before it. When the run
    length is known (``last_trigger``), the stop goes out with the player's last due
    trigger, stamped late enough that a file writer keeps every player's last data (see
    :meth:`_stop_margin_ns`); it is then part of that trigger's ack like any other
    message. In an endless run the stop goes out at teardown, after the last trigger.
    """

    generator: RunControlGenerator

    def __init__(self, generator: RunControlGenerator, publisher: StreamPublisher, settings: PlayerSettings) -> None:
        super().__init__(generator, publisher, settings)
        self.control = generator
        generator.use_topic_prefix(settings.topic_prefix)
        self.last_trigger: int | None = None
        self.stopped = False

    def __call__(self, trigger: int) -> ActionResult:
        first = self.last_trigger is None
        self.last_trigger = trigger
        messages = [self.control.start_message(self._start_time_ns(trigger))] if first else []
        if trigger == self.settings.last_trigger and not self.stopped:
            self.stopped = True
            stop_ns = self.data_time_ns(trigger) + self._stop_margin_ns()
            messages.append(self.control.stop_message(stop_ns))
        return self._reported(self.publisher.publish(trigger, messages))

    def _start_time_ns(self, trigger: int) -> int:
        """The run's start: the run's own start time when the runner gave one (no earlier than
        any player's data, whatever their level or clock), else this trigger's time."""
        now = self.data_time_ns(trigger)
        return now if self.settings.start_ns is None else min(int(self.settings.start_ns), now)

    def _stop_margin_ns(self) -> int:
        """How long after the last trigger's time the run stops.

        Each player spreads the messages of a trigger over its own period, up to the
        slowest player's period after the last trigger (``longest_period_s``, from the
        runner); on the wall clock the players of later levels also get that trigger after
        this one, which ``stop_margin_s`` covers (``all-streams`` had 1 kHz da00 data
        stamped after a stop one base period late).
        """
        periods = max(1e9 / self.settings.base_rate_hz, self.settings.longest_period_s * 1e9)
        return max(round(periods), self.control.stop_margin_ns)

    def teardown(self) -> None:
        if self.last_trigger is not None and not self.stopped:
            self.stopped = True
            stop = self.control.stop_message(time.time_ns())
            tally = self.publisher.publish(self.last_trigger, [stop])
            self.publisher.wait_delivered(self.last_trigger, CONTROL_DELIVERY_S)
            if tally.delivered < tally.sent:
                raise BrokerError(f"run control {self.publisher.stream!r}: the run stop (6s4t) to "
                                  f"{self.publisher.topic!r} was not confirmed: {tally.first_error or 'timeout'}")
        super().teardown()


def _build(kind: str, params: Mapping[str, Any],
           context: Mapping[str, Any]) -> tuple[StreamGenerator, StreamPublisher, PlayerSettings]:
    settings, stream_params = PlayerSettings.from_params(params)
    name = str(context.get("name") or kind)
    resolved = get_stream_kind(kind).resolve(stream_params, f"player {name!r} params")
    generator = make_generator(kind, resolved, seed=int(context.get("seed") or 0), rate_hz=settings.rate_hz)
    topic = context.get("topic")
    if not topic:
        raise ScenarioError(f"player {name!r}: no topic in its context")
    publisher = StreamPublisher(client_config_for(context), str(topic), name, settings.producer, settings.faults)
    return generator, publisher, settings


def generator_action_factory(kind: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], StreamAction]:
    """The action factory of built-in generator ``kind`` (``factory(params, context)``)."""

    def factory(params: Mapping[str, Any], context: Mapping[str, Any]) -> StreamAction:
        return StreamAction(*_build(kind, params, context))

    factory.__name__ = f"{kind.replace('-', '_')}_action"
    return factory


def run_control_action(params: Mapping[str, Any], context: Mapping[str, Any]) -> RunControlAction:
    """The action factory of ``run-control``; ``broker`` defaults to the player's bootstrap."""
    params = dict(params)
    if not params.get("broker"):
        params["broker"] = str(context.get("bootstrap") or "")
    generator, publisher, settings = _build("run-control", params, context)
    if not isinstance(generator, RunControlGenerator):
        raise ScenarioError(f"the run-control kind made a {type(generator).__name__}, not a RunControlGenerator")
    return RunControlAction(generator, publisher, settings)
