"""Director and Players: numbered triggers by priority level over ZeroMQ."""

from harness.orchestra.action import ActionResult, PlayerAction
from harness.orchestra.journal import EventKind, Journal, JournalEvent

__all__ = ["ActionResult", "EventKind", "Journal", "JournalEvent", "PlayerAction"]
