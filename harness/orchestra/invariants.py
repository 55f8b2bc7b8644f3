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
_PAIR_EVENTS = RESOLUTIONS | {EventKind.TRIGGER_SENT, EventKind.RESENT}
MAX_LISTED = 20


_OpenPairs = dict[tuple[int, str], tuple[int, int]]  # (trigger, player) -> (level, seq sent)


def journal_violations(events: Iterable[JournalEvent]) -> list[str]:
    """Every way ``events`` break the invariants above, as readable lines (empty: none)."""
    problems: list[str] = []
    open_pairs: _OpenPairs = {}
    resolved: dict[tuple[int, str], JournalEvent] = {}
    for event in events:
        if event.kind is EventKind.RUN_STARTED:
            resolved.clear()  # a new run numbers its triggers afresh
        elif event.kind in _RUN_END:
            for (trigger, player), (_, seq) in sorted(open_pairs.items()):
                problems.append(f"#{seq}: trigger {trigger} sent to {player!r} was never resolved "
                                f"before the run ended (#{event.seq})")
            open_pairs.clear()
        elif event.kind in _PAIR_EVENTS:
            if event.trigger is None or event.player is None:
                problems.append(f"#{event.seq}: {event.kind.value} names no trigger or player")
            else:
                _check_pair(event, (event.trigger, event.player), open_pairs, resolved, problems)
    return problems


def _check_pair(event: JournalEvent, key: tuple[int, str], open_pairs: _OpenPairs,
                resolved: dict[tuple[int, str], JournalEvent], problems: list[str]) -> None:
    if event.kind is EventKind.TRIGGER_SENT:
        if event.level is None:
            problems.append(f"#{event.seq}: trigger {event.trigger} sent to {event.player!r} names no level")
            return
        _check_order(event, (key[0], event.level), open_pairs, problems)
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
    elif key not in open_pairs:  # RESENT
        problems.append(f"#{event.seq}: re-sent trigger {event.trigger} to {event.player!r} after it was resolved")


def _check_order(event: JournalEvent, here: tuple[int, int], open_pairs: _OpenPairs, problems: list[str]) -> None:
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
