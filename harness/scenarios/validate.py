"""Turning the plain data of a scenario file into the validated fields of a :class:`Scenario`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness.durations import EXAMPLES, seconds
from harness.errors import ScenarioError
from harness.kinds import get_stream_kind, resolve_params
from harness.orchestra.ack import AckAfter
from harness.orchestra.plan import MAX_CATCH_UP
from harness.scenarios.brokerfaults import broker_faults_from
from harness.scenarios.players import (
    ACK_AFTER,
    ACK_PARAMS,
    CLOCKS,
    EXPECT_PARAMS,
    MAX_PLAYERS,
    MAX_RATE_HZ,
    MAX_TRIGGERS,
    AckSettings,
    Expectations,
    PlayerSpec,
    derive_seed,
    divisor_for,
)
from harness.scenarios.tables import check_keys, check_topic, require_table, take

__all__ = ["scenario_fields", "SCENARIO_KEYS", "PLAYER_KEYS", "CI_KEYS"]

SCENARIO_KEYS = ("name", "description", "rate", "triggers", "duration", "seed", "catch_up", "ack", "ci",
                 "broker_faults")
PLAYER_KEYS = ("name", "stream", "topic", "partitions", "priority", "rate", "divisor", "seed", "ack", "clock",
               "params", "expect", "producer", "faults")
#: librdkafka settings a scenario must not set: the harness owns them
RESERVED_PRODUCER_KEYS = ("bootstrap.servers", "on_delivery", "stats_cb", "error_cb", "logger", "throttle_cb")
_PRODUCER_KEY = re.compile(r"^[a-z][a-z0-9._]*$")
CI_KEYS = ("triggers", "duration", "params")
MAX_PARTITIONS = 1000


def scenario_fields(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Validate ``data`` laid out like a scenario file into :class:`Scenario` keywords.

    Errors name ``source`` and the key.
    """
    require_table(data, source)
    check_keys(data, ("scenario", "players"), f"{source}: top level")
    if "scenario" not in data:
        raise ScenarioError(f"{source}: missing the [scenario] table (name, rate, triggers or duration, ...)")
    where = f"{source}: scenario"
    head = require_table(data["scenario"], where)
    check_keys(head, SCENARIO_KEYS, where)
    name = take(head, "name", str, where)
    if not name.strip():
        raise ScenarioError(f"{where}.name: must not be empty")
    rate = take(head, "rate", float, where, positive=True, maximum=MAX_RATE_HZ)
    seed = take(head, "seed", int, where, 0, minimum=0, maximum=2**63 - 1)
    ack = _ack(head.get("ack", {}), f"{where}.ack")
    triggers = _length(head, rate, where, required=True)
    players = _players(data.get("players"), rate, seed, ack.after, source)
    ci_triggers, ci_params = _ci(head.get("ci", {}), rate, players, f"{where}.ci")
    return dict(name=name, rate_hz=rate, players=players, triggers=triggers,
                description=take(head, "description", str, where, ""), seed=seed, ack=ack,
                ci_triggers=ci_triggers, ci_params=ci_params, source=source,
                catch_up=take(head, "catch_up", int, where, 1, minimum=1, maximum=MAX_CATCH_UP),
                broker_faults=broker_faults_from(head.get("broker_faults", []), f"{where}.broker_faults"))


def _length(table: Mapping[str, Any], rate: float, where: str, required: bool) -> int | None:
    if "triggers" in table and "duration" in table:
        raise ScenarioError(f"{where}: give either 'triggers' or 'duration', not both")
    if "triggers" in table:
        triggers: int = take(table, "triggers", int, where, minimum=1, maximum=MAX_TRIGGERS)
        return triggers
    if "duration" in table:
        raw = table["duration"]
        if isinstance(raw, str):  # the syntax of --duration too: "3s", "500ms", "2m"
            parsed = seconds(raw)
            if parsed is None:
                raise ScenarioError(f"{where}.duration {raw!r}: expected a duration ({EXAMPLES})")
            table = {**table, "duration": parsed}
        duration: float = take(table, "duration", float, where, positive=True, maximum=MAX_TRIGGERS / rate)
        return max(1, round(duration * rate))
    if required:
        raise ScenarioError(f"{where}: missing the run length: set 'triggers' (a count) or 'duration' (seconds)")
    return None


def _ack(table: Any, where: str) -> AckSettings:
    values = resolve_params(ACK_PARAMS, require_table(table, where), where)
    return AckSettings(values["policy"], values["timeout"], values["resend"], AckAfter(values["after"]))


def _players(raw: Any, rate: float, seed: int, ack_after: AckAfter, source: str) -> tuple[PlayerSpec, ...]:
    if raw is None:
        raise ScenarioError(f"{source}: missing [[players]]; a scenario needs at least one player")
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(f"{source}: players: expected a non-empty array of tables ([[players]]), found {raw!r}")
    if len(raw) > MAX_PLAYERS:
        raise ScenarioError(f"{source}: players: {len(raw)} players; at most {MAX_PLAYERS} are allowed (each is a "
                            "process): give one player several streams or a higher per_trigger instead")
    players = tuple(_player(entry, i, rate, seed, ack_after, source) for i, entry in enumerate(raw))
    names = [p.name for p in players]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ScenarioError(f"{source}: players: names must be unique; repeated: {', '.join(duplicates)}")
    partitions: dict[str, int] = {}
    for player in players:
        known = partitions.setdefault(player.topic, player.partitions)
        if known != player.partitions:
            raise ScenarioError(f"{source}: player {player.name!r}: topic {player.topic!r} has partitions="
                                f"{player.partitions} here but {known} for another player; use one value")
    return players


def _player(entry: Any, index: int, rate: float, seed: int, ack_after: AckAfter, source: str) -> PlayerSpec:
    where = f"{source}: players[{index}]"
    table = require_table(entry, where)
    check_keys(table, PLAYER_KEYS, where)
    stream = take(table, "stream", str, where)
    name = take(table, "name", str, where, stream)
    where = f"{source}: players[{index}] ({name!r})"
    kind = get_stream_kind(stream, f"{where}.stream")
    params = kind.resolve(require_table(table.get("params", {}), f"{where}.params"), f"{where}.params")
    expect = resolve_params(EXPECT_PARAMS, require_table(table.get("expect", {}), f"{where}.expect"),
                            f"{where}.expect")
    return PlayerSpec(
        name=name, stream=stream,
        topic=check_topic(take(table, "topic", str, where), f"{where}.topic"),
        partitions=take(table, "partitions", int, where, 1, minimum=1, maximum=MAX_PARTITIONS),
        priority=take(table, "priority", int, where, 1, minimum=-1, maximum=1000),
        divisor=_divisor(table, rate, where),
        seed=take(table, "seed", int, where, derive_seed(seed, name), minimum=0, maximum=2**63 - 1),
        ack=AckAfter(take(table, "ack", str, where, ack_after.value, choices=ACK_AFTER)),
        clock=take(table, "clock", str, where, "wall", choices=CLOCKS),
        params=params,
        expect=Expectations(expect["rate_tolerance"], expect["max_missed"]),
        producer=_producer(table.get("producer", {}), f"{where}.producer"),
        faults=_faults(table.get("faults", {}), f"{where}.faults"),
    )


def _faults(table: Any, where: str) -> dict[str, Any]:
    """Deliberate defects (``drop``, ``corrupt``, ``swap``, ``delay_s``, ``stall_*``); only those given."""
    from harness.streams.faults import FAULT_PARAMS

    given = require_table(table, where)
    resolved = resolve_params(FAULT_PARAMS, given, where)
    return {key: resolved[key] for key in given}


def _producer(table: Any, where: str) -> dict[str, Any]:
    """librdkafka producer settings (``linger.ms = 5``, ``compression.type = "lz4"``, ...)."""
    table = require_table(table, where)
    for key, value in table.items():
        if not _PRODUCER_KEY.match(key) or key in RESERVED_PRODUCER_KEYS:
            raise ScenarioError(f"{where}: {key!r} is not a producer setting a scenario may set; use librdkafka "
                                f"keys such as linger.ms or compression.type (not {', '.join(RESERVED_PRODUCER_KEYS)})")
        if not isinstance(value, (str, int, float, bool)):
            raise ScenarioError(f"{where}.{key}: expected a string, number or boolean, found {value!r}")
    return dict(table)


def _divisor(table: Mapping[str, Any], rate: float, where: str) -> int:
    if "rate" in table and "divisor" in table:
        raise ScenarioError(f"{where}: give either 'rate' or 'divisor', not both")
    if "rate" in table:
        return divisor_for(take(table, "rate", float, where, positive=True), rate, f"{where}.rate")
    divisor: int = take(table, "divisor", int, where, 1, minimum=1, maximum=1_000_000)
    return divisor


def _ci(table: Any, rate: float, players: tuple[PlayerSpec, ...],
        where: str) -> tuple[int | None, dict[str, dict[str, Any]]]:
    table = require_table(table, where)
    check_keys(table, CI_KEYS, where)
    triggers = _length(table, rate, where, required=False)
    raw_params = require_table(table.get("params", {}), f"{where}.params")
    by_name = {p.name: p for p in players}
    ci_params: dict[str, dict[str, Any]] = {}
    for player_name, override in raw_params.items():
        if player_name not in by_name:
            raise ScenarioError(f"{where}.params: no player {player_name!r}; players: {', '.join(by_name)}")
        override = dict(require_table(override, f"{where}.params.{player_name}"))
        kind = get_stream_kind(by_name[player_name].stream)
        kind.resolve({**by_name[player_name].params, **override}, f"{where}.params.{player_name}")
        ci_params[player_name] = override
    return triggers, ci_params
