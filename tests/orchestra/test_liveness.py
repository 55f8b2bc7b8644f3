"""The ZMTP heartbeat timeout under a player's connection outlasts the director's heartbeat policy.

libzmq drops a connection that heard nothing for ZMQ_HEARTBEAT_TIMEOUT; the player then
reconnects under a routing id the director still holds for the old connection, and is
lost. A partition the director's liveness rides out must therefore not drop it underneath.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from harness.orchestra import Director, EventKind, Player, PlayerConfig
from harness.orchestra.liveness import ZMTP_TIMEOUT_FLOOR_MS, silence_limit_s, zmtp_timeout_ms
from tests.orchestra.partition import PartitionRelay

HEARTBEAT_S = 1.0
LIVENESS = 9  # the director keeps a silent player 9 s
PARTITION_S = 6.5  # longer than the 5 s the ZMTP timeout used to be fixed at


@pytest.mark.parametrize(("heartbeat_s", "liveness"), [(0.5, 6), (1.0, 9), (2.0, 30), (0.05, 3), (60.0, 1000)])
def test_the_zmtp_timeout_outlasts_the_policy_by_a_margin(heartbeat_s, liveness):
    timeout_s = zmtp_timeout_ms(heartbeat_s, liveness) / 1000
    assert timeout_s >= silence_limit_s(heartbeat_s, liveness) + max(2.0, heartbeat_s)
    assert timeout_s >= ZMTP_TIMEOUT_FLOOR_MS / 1000


def _serve(config: PlayerConfig) -> tuple[Player, threading.Thread]:
    player = Player(config, mode="thread")
    thread = threading.Thread(target=player.run, daemon=True)
    thread.start()
    return player, thread


def _through_a_partition(config_policy: dict[str, float | int], caplog) -> tuple[Director, PartitionRelay]:
    director = Director(heartbeat_s=HEARTBEAT_S, liveness=LIVENESS).start()
    host, port = director.endpoint.removeprefix("tcp://").rsplit(":", 1)
    relay = PartitionRelay((host, int(port)))
    config = PlayerConfig("det", director=relay.endpoint, **config_policy)
    with caplog.at_level(logging.WARNING, logger="harness.orchestra.player.det"):
        player, thread = _serve(config)
        director.wait_for_players(["det"], timeout_s=20)
        assert director.run(count=3, ack_timeout_s=5.0, policy="fail").ok
        relay.hold()
        time.sleep(PARTITION_S)
        relay.release()
    return director, relay


def test_a_partition_the_directors_liveness_rides_out_keeps_the_player(caplog):
    director, relay = _through_a_partition({"heartbeat_s": HEARTBEAT_S, "liveness": LIVENESS}, caplog)
    try:
        time.sleep(2 * HEARTBEAT_S)  # the held traffic arrives; heartbeats resume
        assert relay.connections == 1, "the player's connection was dropped and made again"
        assert [p.name for p in director.players()] == ["det"]
        assert director.run(count=3, ack_timeout_s=5.0, policy="fail").ok
        assert not director.journal.of_kind(EventKind.PLAYER_LOST)
        assert "outlasts this connection's ZMTP timeout" not in caplog.text
    finally:
        director.close()
        relay.close()


def test_a_player_told_a_briefer_policy_warns_and_its_connection_drops_in_the_partition(caplog):
    director, relay = _through_a_partition({"heartbeat_s": 0.5, "liveness": 6}, caplog)  # ZMTP timeout 5 s
    try:
        assert "outlasts this connection's ZMTP timeout" in caplog.text
        deadline = time.monotonic() + 10
        while relay.connections < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert relay.connections == 2, "the 5 s ZMTP timeout should have dropped the connection in 6.5 s"
    finally:
        director.close()
        relay.close()
