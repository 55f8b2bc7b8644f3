"""What a run journal must show, checked from the journal alone.

1. Levels never overlap: a trigger is sent to level k+1 (or the next trigger starts) only
   after every (trigger, player) pair sent before it was resolved.
2. Every pair sent (TRIGGER_SENT) is resolved exactly once, by ACK, NACK or MISSED, and
   nothing is resolved that was not sent. Pairs still open are allowed only while the
   run has not ended.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.errors import CheckFailed
from harness.orchestra.journal import EventKind, JournalEvent

__all__ = ["RESOLUTIONS", "journal_violations", "check_journal"]

RESOLUTIONS = frozenset({EventKind.ACK, EventKind.NACK, EventKind.MISSED})
_RUN_END = frozenset({EventKind.RUN_STOPPED, EventKind.RUN_ABORTED})
MAX_LISTED = 20


def journal_violations(events: Iterable[JournalEvent]) -> list[str]:
    """Every way ``events`` break the invariants above, as readable lines (empty: none)."""
    problems: list[str] = []
    open_pairs: dict[tuple[int, str], tuple[int, int]] = {}  # (trigger, player) -> (level, seq sent)
    resolved: dict[tuple[int, str], JournalEvent] = {}
    for event in events:
        key = (event.trigger, event.player)
        if event.kind is EventKind.TRIGGER_SENT:
            _check_order(event, open_pairs, problems)
            if key in open_pairs or key in resolved:
                problems.append(f"#{event.seq}: trigger {event.trigger} sent twice to {event.player!r}")
            open_pairs[key] = (event.level, event.seq)
        elif event.kind in RESOLUTIONS:
            if key in resolved:
                problems.append(f"#{event.seq}: trigger {event.trigger} of {event.player!r} resolved again "
                                f"({event.kind.value} after {resolved[key].kind.value} #{resolved[key].seq})")
            elif key not in open_pairs:
                problems.append(f"#{event.seq}: {event.kind.value} for trigger {event.trigger} of "
                                f"{event.player!r}, which was never sent")
            else:
                del open_pairs[key]
            resolved[key] = event
        elif event.kind is EventKind.RESENT and key not in open_pairs:
            problems.append(f"#{event.seq}: re-sent trigger {event.trigger} to {event.player!r} after it was resolved")
        elif event.kind is EventKind.RUN_STARTED:
            resolved.clear()  # a new run numbers its triggers afresh
        elif event.kind in _RUN_END:
            for (trigger, player), (_, seq) in sorted(open_pairs.items()):
                problems.append(f"#{seq}: trigger {trigger} sent to {player!r} was never resolved "
                                f"before the run ended (#{event.seq})")
            open_pairs.clear()
    return problems


def _check_order(event: JournalEvent, open_pairs: dict, problems: list[str]) -> None:
    here = (event.trigger, event.level)
    for (trigger, player), (level, seq) in open_pairs.items():
        if (trigger, level) < here:
            problems.append(f"#{event.seq}: trigger {event.trigger} sent to level {event.level} "
                            f"({event.player!r}) while trigger {trigger} level {level} ({player!r}, sent #{seq}) "
                            "was still unresolved")


def check_journal(events: Iterable[JournalEvent]) -> None:
    """Raise :class:`~harness.errors.CheckFailed` listing the violations, if any."""
    problems = journal_violations(events)
    if problems:
        more = f"\n... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise CheckFailed(f"the run journal breaks the scheduler's invariants ({len(problems)}):\n"
                          + "\n".join(problems[:MAX_LISTED]) + more)
