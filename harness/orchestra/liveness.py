"""The heartbeat policy both sides share, and the ZMTP timeout derived from it.

A peer silent for ``heartbeat_s * liveness`` is gone (Paranoid Pirate). Under that sits
libzmq's own ZMTP heartbeat on the player's connection, answered even while Python is
busy; its timeout drops the TCP connection, and a dropped connection loses what was
queued on it and comes back under a routing id the director may still hold. So it must
outlast the policy: a network partition that the director's liveness would ride out must
not be cut short underneath it.
"""

from __future__ import annotations

import math

__all__ = ["DEFAULT_HEARTBEAT_S", "DEFAULT_LIVENESS", "ZMTP_HEARTBEAT_MS", "ZMTP_TIMEOUT_FLOOR_MS",
           "ZMTP_TIMEOUT_MARGIN_S", "silence_limit_s", "zmtp_timeout_ms"]

DEFAULT_HEARTBEAT_S = 0.5
# heartbeats missed before a peer counts as gone (Paranoid Pirate); 3 s tolerates a loaded CI machine
DEFAULT_LIVENESS = 6
ZMTP_HEARTBEAT_MS = 1000  # libzmq pings the director this often
ZMTP_TIMEOUT_FLOOR_MS = 5000  # never shorter than this, however brisk the policy
ZMTP_TIMEOUT_MARGIN_S = 2.0  # beyond the policy's limit: the director decides first, with time to say so


def silence_limit_s(heartbeat_s: float, liveness: int) -> float:
    """How long a peer may stay silent before it counts as gone."""
    return heartbeat_s * liveness


def zmtp_timeout_ms(heartbeat_s: float, liveness: int) -> int:
    """ZMQ_HEARTBEAT_TIMEOUT for a player of a director with this policy: its limit plus a margin."""
    margin_s = max(ZMTP_TIMEOUT_MARGIN_S, heartbeat_s)
    return max(ZMTP_TIMEOUT_FLOOR_MS, math.ceil((silence_limit_s(heartbeat_s, liveness) + margin_s) * 1000))
