"""Director and Players: numbered triggers by priority level over ZeroMQ.

The public API: :class:`Ensemble` (a director plus the players it started),
:class:`Director`, :class:`Player`, :class:`PlayerConfig`,
:class:`RunPlan` / :class:`AckPolicy`, the journal types, the action-kind registry
(:func:`register_action_kind`, :func:`make_action`) and the journal invariants.
Submodules import ZeroMQ only when a socket is made, so importing this is cheap.
"""

from harness.orchestra.ack import AckAfter
from harness.orchestra.action import ActionResult, DeliveryAction, PlayerAction
from harness.orchestra.action_kinds import action_kinds, make_action, register_action_kind
from harness.orchestra.director import Director, RunHandle
from harness.orchestra.ensemble import Ensemble
from harness.orchestra.failures import FailureLog
from harness.orchestra.invariants import check_journal, journal_violations
from harness.orchestra.journal import EventKind, Journal, JournalEvent
from harness.orchestra.launcher import PlayerHandle, PlayerPool
from harness.orchestra.plan import AckPolicy, RunPlan, Seat, is_due
from harness.orchestra.player import Player, PlayerExit
from harness.orchestra.player_config import PlayerConfig
from harness.orchestra.registry import PlayerInfo, PlayerState
from harness.orchestra.schedule import RunState, ScheduleResult, TriggerScheduler
from harness.orchestra.security import CurveClient, CurveServer, generate_keypair

__all__ = [
    "AckAfter", "AckPolicy", "ActionResult", "CurveClient", "CurveServer", "DeliveryAction", "Director", "Ensemble",
    "EventKind", "FailureLog", "Journal", "JournalEvent", "Player", "PlayerAction", "PlayerConfig", "PlayerExit",
    "PlayerHandle", "PlayerInfo", "PlayerPool", "PlayerState", "RunHandle", "RunPlan",
    "RunState", "ScheduleResult", "Seat", "TriggerScheduler", "action_kinds", "check_journal",
    "generate_keypair", "is_due", "journal_violations", "make_action", "register_action_kind",
]
