"""Running a scenario end to end: topics, a director, the players as processes, a summary.

>>> from harness.scenarios import load_scenario                         # doctest: +SKIP
>>> from harness.scenarios.runner import run_scenario
>>> result = run_scenario(load_scenario("e-mixed").ci(), "127.0.0.1:9092")
>>> result.ok, result.topics, result.stream("e-mixed").messages
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping

from harness.errors import DonkiError, RunError, ScenarioError
from harness.scenarios.model import PlayerSpec, Scenario
from harness.scenarios.result import RunResult, StreamSummary, summarise_player

__all__ = ["run_scenario", "player_spec_for", "topic_names", "ACK_MODES", "REGISTER_TIMEOUT_S"]

#: scenario ``ack`` values -> the orchestra's ack modes
ACK_MODES = {"delivery": "delivered", "send": "sent"}
REGISTER_TIMEOUT_S = 60.0  # cold interpreter starts of several players on a loaded 2-core machine
START_TIMEOUT_S = 60.0  # setup connects to Kafka and waits for the idempotent producer id
STOP_TIMEOUT_S = 60.0  # teardown flushes the producer and sends run stops
#: a player acking after delivery waits for Kafka on every trigger: send at once (1 ms to
#: gather a trigger's messages into one request) and without Nagle's delay on the socket
LOW_LATENCY_PRODUCER = {"linger.ms": 1, "socket.nagle.disable": True}
#: players that ack after delivery wait for it a little less than the director waits for them,
#: so their (honest, partial) counts still arrive before the ack deadline
DELIVERY_SHARE_OF_TIMEOUT = 0.9


def topic_names(scenario: Scenario, prefix: str) -> dict[str, str]:
    """Local topic name -> the full name used in this run (``<prefix>.<local>``)."""
    return {local: f"{prefix}.{local}" for local in scenario.topics()}


def last_due_trigger(triggers: int | None, divisor: int) -> int | None:
    """The last trigger of a run of ``triggers`` on which a player with ``divisor`` is due."""
    if triggers is None:
        return None
    return triggers - (triggers - 1) % divisor


def player_spec_for(player: PlayerSpec, scenario: Scenario, topic: str, bootstrap: str, start_ns: int):
    """The orchestra's :class:`~harness.orchestra.PlayerSpec` that runs ``player``."""
    from harness.orchestra import PlayerSpec as OrchestraSpec
    from harness.streams.actions import PLAYER_KEY

    producer = {**(LOW_LATENCY_PRODUCER if player.ack == "delivery" else {}), **player.producer}
    settings = {"rate_hz": player.rate_hz(scenario.rate_hz), "base_rate_hz": scenario.rate_hz,
                "clock": player.clock, "start_ns": start_ns, "producer": producer, "ack": player.ack,
                "last_trigger": last_due_trigger(scenario.triggers, player.divisor), "faults": dict(player.faults)}
    return OrchestraSpec(
        name=player.name, kind=player.stream, params={**player.params, PLAYER_KEY: settings},
        priority=player.priority, divisor=player.divisor, streams=(player.name,), ack_mode=ACK_MODES[player.ack],
        bootstrap=bootstrap, topic=topic, seed=player.seed,
        delivery_timeout_s=scenario.ack.timeout_s * DELIVERY_SHARE_OF_TIMEOUT,
    )


def _bootstrap_of(broker: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(broker, str):
        return broker, {"bootstrap.servers": broker}
    return broker.bootstrap_servers, dict(broker.client_config)


def run_scenario(scenario: Scenario, broker: Any, *, topic_prefix: str | None = None, namespace: Any = None,
                 verify: bool = True, mode: str = "process", log_dir: Path | None = None,
                 register_timeout_s: float = REGISTER_TIMEOUT_S, ensemble_options: Mapping[str, Any] | None = None,
                 log: Callable[[str], None] = lambda _message: None) -> RunResult:
    """Run ``scenario`` against ``broker`` (a started :class:`~harness.kafka.Broker` or a bootstrap address).

    Topics are made in ``namespace`` (a :class:`~harness.kafka.TopicNamespace` such as
    pytest's ``donki_topics``, which deletes them later) or under ``topic_prefix`` (default
    a fresh ``donki-run-<name>-<id>``; existing topics are used as they are, and left in
    place for recorders and checks). One player per scenario player is started
    (``mode`` ``process`` or ``thread``) under a new director, the triggers run, the
    players stop (run stop, producer flush), and with ``verify`` each topic's messages are
    counted from its offsets.

    A run that ends badly (aborted, missed acks, undelivered messages, a failing player)
    returns a result whose ``complete``/``ok`` are false with its ``problems``; bad input
    raises :class:`~harness.errors.DonkiError`. ``ensemble_options`` go to the
    :class:`~harness.orchestra.Ensemble` (``host``, CURVE keys, ``launch_prefix``: where the
    director binds and where players run, for runs over several hosts).
    """
    from harness.kafka.brokerwatch import BrokerWatch
    from harness.orchestra import Ensemble, journal_violations
    from harness.streams.brokerfaults import BrokerFaultInjector

    if scenario.triggers is None:
        raise ScenarioError(f"scenario {scenario.name!r} has no run length; use scenario.with_length(...)")
    bootstrap, client_config = _bootstrap_of(broker)
    faults = BrokerFaultInjector(broker, scenario.broker_faults)  # refuses a broker that cannot do them, now
    topics = _create_topics(scenario, client_config, topic_prefix, namespace)
    log(f"topics {', '.join(topics.values())}")
    start_ns = time.time_ns()
    specs = [player_spec_for(p, scenario, topics[p.topic], bootstrap, start_ns) for p in scenario.players]
    problems: list[str] = []
    watch = BrokerWatch(bootstrap, client_config)
    with Ensemble(log_dir=log_dir, **dict(ensemble_options or {})) as ensemble:
        ensemble.add_players(specs, mode, timeout_s=register_timeout_s)
        log(f"{len(specs)} player(s) joined the director at {ensemble.endpoint}; running {scenario.triggers} "
            f"trigger(s) at {scenario.rate_hz:g} Hz")
        faults.follow(ensemble.journal)
        with watch.start(on_lost=lambda error: ensemble.director.abort(str(error))), faults:
            outcome, elapsed = _run(ensemble, scenario, problems)
        problems += faults.problems
        watch.check(final=True)  # a dead broker ends the run with one error; the players are stopped by the ensemble
        drain_started = time.monotonic()
        _stop_players(ensemble, problems)
        drain = time.monotonic() - drain_started
        journal = ensemble.journal
        problems += [str(error) for error in ensemble.take_player_errors()]
        problems += [f"journal: {line}" for line in journal_violations(journal)]  # iterated, not copied
        logs = _player_logs(ensemble)
    counts = _topic_counts(client_config, scenario, topics) if verify else {}
    streams = tuple(_summary(p, scenario, topics, journal, counts) for p in scenario.players)
    return RunResult(scenario, bootstrap, topics, streams, journal, elapsed, outcome, tuple(problems), drain, logs)


def _create_topics(scenario: Scenario, client_config: dict[str, Any], prefix: str | None,
                   namespace: Any) -> dict[str, str]:
    from harness.kafka import TopicAdmin, TopicSpec

    if namespace is not None:
        return {local: namespace.create(local, n) for local, n in scenario.topics().items()}
    topics = topic_names(scenario, prefix or f"donki-run-{scenario.name}-{uuid.uuid4().hex[:8]}")
    specs = [TopicSpec(topics[local], n) for local, n in scenario.topics().items()]
    TopicAdmin(client_config).create(specs, exist_ok=True)
    return topics


def _run(ensemble: Any, scenario: Scenario, problems: list[str]) -> tuple[str, float]:
    from harness.orchestra import AckPolicy, RunPlan

    policy = AckPolicy(scenario.ack.policy)
    plan = RunPlan(count=scenario.triggers, rate_hz=scenario.rate_hz, ack_timeout_s=scenario.ack.timeout_s,
                   policy=policy, resends=scenario.ack.resend if policy is AckPolicy.RESEND else 0)
    started = time.monotonic()
    try:
        ensemble.director.start_players(timeout_s=START_TIMEOUT_S)
        result = ensemble.run(plan, check=False)
    except DonkiError as exc:  # e.g. a player refused to start: the run never began
        problems.append(f"the run could not run: {exc}")
        return "failed", time.monotonic() - started
    if result.state.value == "aborted":
        problems.append(f"run aborted after trigger {result.last_trigger}: {result.reason}")
    return result.state.value, result.elapsed_s


def _stop_players(ensemble: Any, problems: list[str]) -> None:
    names = [p.name for p in ensemble.director.players()]
    try:
        ensemble.director.stop_players(names, timeout_s=STOP_TIMEOUT_S)
    except DonkiError as exc:
        problems.append(f"stopping the players: {exc}")


def _player_logs(ensemble: Any) -> dict[str, str]:
    return {handle.name: handle.log_text() for handle in ensemble.pool.handles()} if ensemble.pool else {}


def _topic_counts(client_config: Mapping[str, Any], scenario: Scenario, topics: dict[str, str]) -> dict[str, int]:
    from harness.streams.readback import topic_message_count

    try:
        return {local: topic_message_count(client_config, full) for local, full in topics.items()}
    except DonkiError as exc:
        raise RunError(f"the run ended but its topics could not be counted: {exc}") from None


def _summary(player: PlayerSpec, scenario: Scenario, topics: dict[str, str], journal: Any,
             counts: dict[str, int]) -> StreamSummary:
    from harness.scenarios.kinds import get_stream_kind

    shared = sum(1 for p in scenario.players if p.topic == player.topic) > 1
    in_kafka = None if shared or player.topic not in counts else counts[player.topic]
    return summarise_player(player, scenario, topics[player.topic], get_stream_kind(player.stream).schemas,
                            journal, in_kafka)
