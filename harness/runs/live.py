"""The source of a live run: a director and one player process per scenario player.

The players are launched under a new director, triggered for the scenario's length and
stopped (run stop, producer flush); what they did is journaled and summarised per stream
by :mod:`harness.runs.summary`. While the players run, a
:class:`~harness.kafka.brokerwatch.BrokerWatch` probes the cluster: when no broker
answered for its grace (10 s) the director's run is aborted and
:class:`~harness.errors.BrokerLostError` raised, one line naming the brokers. The
scenario's broker faults are carried out as the triggers go out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import DonkiError
from harness.kafka.brokerwatch import BrokerWatch
from harness.orchestra import (
    AckAfter,
    AckPolicy,
    Ensemble,
    Journal,
    PlayerConfig,
    RunPlan,
    RunState,
    journal_violations,
)
from harness.streams.actions import PLAYER_KEY
from harness.streams.brokerfaults import BrokerFaultInjector

if TYPE_CHECKING:
    from harness.filewriter.loop import WrittenFile
    from harness.scenarios import PlayerSpec, Scenario

__all__ = ["SourceRun", "drive_players", "player_config_for", "last_due_trigger", "REGISTER_TIMEOUT_S"]

REGISTER_TIMEOUT_S = 60.0  # cold interpreter starts of several players on a loaded 2-core machine
START_TIMEOUT_S = 60.0  # setup connects to Kafka and waits for the idempotent producer id
STOP_TIMEOUT_S = 60.0  # teardown flushes the producer and sends run stops
#: a player acking after delivery waits for Kafka on every trigger: send at once (1 ms to
#: gather a trigger's messages into one request) and without Nagle's delay on the socket
LOW_LATENCY_PRODUCER = {"linger.ms": 1, "socket.nagle.disable": True}
#: players that ack after delivery wait for it a little less than the director waits for them,
#: so their (honest, partial) counts still arrive before the ack deadline
DELIVERY_SHARE_OF_TIMEOUT = 0.9


@dataclass
class SourceRun:
    """What driving the source gave: how the run ended, its journal (the players' or the
    replayed recording's) and its problems."""

    outcome: str
    elapsed_s: float
    drain_s: float
    journal: Journal
    problems: list[str] = field(default_factory=list)
    player_logs: dict[str, str] = field(default_factory=dict)
    written: list[WrittenFile] = field(default_factory=list)  # files of the file-writer double, if one ran


def last_due_trigger(triggers: int | None, divisor: int) -> int | None:
    """The last trigger of a run of ``triggers`` on which a player with ``divisor`` is due."""
    if triggers is None:
        return None
    return triggers - (triggers - 1) % divisor


def player_config_for(player: PlayerSpec, scenario: Scenario, topic: str, bootstrap: str,
                      start_ns: int) -> PlayerConfig:
    """The orchestra's :class:`~harness.orchestra.PlayerConfig` that runs scenario player ``player``."""
    producer = {**(LOW_LATENCY_PRODUCER if player.ack is AckAfter.DELIVERY else {}), **player.producer}
    settings = {"rate_hz": player.rate_hz(scenario.rate_hz), "base_rate_hz": scenario.rate_hz,
                "clock": player.clock, "start_ns": start_ns, "producer": producer, "ack": player.ack.value,
                "last_trigger": last_due_trigger(scenario.triggers, player.divisor), "faults": dict(player.faults),
                "longest_period_s": max(p.divisor for p in scenario.players) / scenario.rate_hz,
                "topic_prefix": topic[: len(topic) - len(player.topic)]}
    return PlayerConfig(
        name=player.name, kind=player.stream, params={**player.params, PLAYER_KEY: settings},
        priority=player.priority, divisor=player.divisor, streams=(player.name,), ack_mode=player.ack,
        bootstrap=bootstrap, topic=topic, seed=player.seed,
        delivery_timeout_s=scenario.ack.timeout_s * DELIVERY_SHARE_OF_TIMEOUT,
    )


def drive_players(scenario: Scenario, bootstrap: str, topics: dict[str, str], *, mode: str = "process",
                  log_dir: Path | None = None, register_timeout_s: float = REGISTER_TIMEOUT_S,
                  client_config: Mapping[str, Any] | None = None, faults: BrokerFaultInjector | None = None,
                  ensemble_options: Mapping[str, Any] | None = None,
                  log: Callable[[str], None] = lambda _message: None) -> SourceRun:
    """Launch, trigger and stop one player per scenario player; problems are collected, not raised.

    ``client_config`` is the cluster's (default: just ``bootstrap``), for the broker watch;
    ``faults`` carries out the scenario's broker faults; ``ensemble_options`` go to the
    :class:`~harness.orchestra.Ensemble` (``host``, CURVE keys, ``launch_prefix``, ``liveness``:
    where the director binds and where players run, for runs over several hosts). Raises
    :class:`~harness.errors.BrokerLostError` when the cluster stopped answering.
    """
    start_ns = time.time_ns()
    configs = [player_config_for(p, scenario, topics[p.topic], bootstrap, start_ns) for p in scenario.players]
    problems: list[str] = []
    watch = BrokerWatch(bootstrap, client_config or {"bootstrap.servers": bootstrap})
    faults = faults if faults is not None else BrokerFaultInjector(None, ())
    with Ensemble(log_dir=log_dir, **dict(ensemble_options or {})) as ensemble:
        ensemble.add_players(configs, mode, timeout_s=register_timeout_s)
        log(f"{len(configs)} player(s) joined the director at {ensemble.endpoint}; running {scenario.triggers} "
            f"trigger(s) at {scenario.rate_hz:g} Hz")
        with watch.start(on_lost=lambda error: ensemble.director.abort(str(error))), faults.follow(ensemble.journal):
            outcome, elapsed = _trigger(ensemble, scenario, problems)
        problems += faults.problems
        watch.check(final=True)  # a dead broker ends the run with one error; the ensemble stops the players
        drain_started = time.monotonic()
        _stop_players(ensemble, problems)
        drain = time.monotonic() - drain_started
        problems += [str(error) for error in ensemble.take_player_errors()]
        problems += [f"journal: {line}" for line in journal_violations(ensemble.journal)]  # iterated, not copied
        logs = {handle.name: handle.log_text() for handle in ensemble.pool.handles()} if ensemble.pool else {}
        return SourceRun(outcome, elapsed, drain, ensemble.journal, problems, logs)


def _trigger(ensemble: Ensemble, scenario: Scenario, problems: list[str]) -> tuple[str, float]:
    policy = AckPolicy(scenario.ack.policy)
    plan = RunPlan(count=scenario.triggers, rate_hz=scenario.rate_hz, ack_timeout_s=scenario.ack.timeout_s,
                   policy=policy, resends=scenario.ack.resend if policy is AckPolicy.RESEND else 0,
                   catch_up=scenario.catch_up)
    started = time.monotonic()
    try:
        ensemble.director.start_players(timeout_s=START_TIMEOUT_S)
        result = ensemble.run(plan, check=False)
    except DonkiError as exc:  # e.g. a player refused to start: the run never began
        problems.append(f"the run could not run: {exc}")
        return "failed", time.monotonic() - started
    if result.state is RunState.ABORTED:
        problems.append(f"run aborted after trigger {result.last_trigger}: {result.reason}")
    return result.state.value, result.elapsed_s


def _stop_players(ensemble: Ensemble, problems: list[str]) -> None:
    names = [p.name for p in ensemble.director.players()]
    try:
        ensemble.director.stop_players(names, timeout_s=STOP_TIMEOUT_S)
    except DonkiError as exc:
        problems.append(f"stopping the players: {exc}")
