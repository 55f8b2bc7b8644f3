"""Acknowledgements and level order, read from the run journal.

A player is *due* on trigger n when it is registered, enabled (priority >= 0) and
``(n - 1) % divisor == 0``; the journal is replayed in order to know who was due when,
so a director that forgot to send a trigger is caught too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness.checks.result import CheckResult, Finding
from harness.checks.stats import distribution
from harness.orchestra.journal import EventKind, Journal, JournalEvent
from harness.orchestra.plan import is_due

__all__ = ["check_acks", "assert_acks", "check_levels", "assert_levels"]

_OUTCOMES = (EventKind.ACK, EventKind.MISSED, EventKind.NACK)
_PROBLEMS = {
    EventKind.DUPLICATE_ACK: "acked trigger {trigger} more than once",
    EventKind.WRONG_ACK: "acked trigger {trigger}, which was never sent to it",
    EventKind.LATE_ACK: "acked trigger {trigger} after its deadline had passed",
}


@dataclass
class _Seat:
    priority: int
    divisor: int
    present: bool = True


def _joined(event: JournalEvent) -> _Seat:
    info = event.detail_json()
    return _Seat(int(info.get("priority", event.level if event.level is not None else 0)), int(info.get("divisor", 1)))


def _due_pairs(events: list[JournalEvent]) -> set[tuple[int, str]]:
    """(trigger, player) pairs that were due, from the seating at the trigger's first send."""
    seats: dict[str, _Seat] = {}
    due: set[tuple[int, str]] = set()
    started: set[int] = set()
    for e in events:
        if e.kind is EventKind.PLAYER_JOINED and e.player:
            seats[e.player] = _joined(e)
        elif e.kind in (EventKind.PLAYER_LEFT, EventKind.PLAYER_LOST) and e.player in seats:
            seats[e.player].present = False
        elif e.kind is EventKind.PRIORITY_CHANGED and e.player in seats and e.level is not None:
            seats[e.player].priority = e.level
        elif e.kind is EventKind.TRIGGER_SENT and e.trigger is not None and e.trigger not in started:
            started.add(e.trigger)
            due |= {(e.trigger, name) for name, s in seats.items()
                    if s.present and s.priority >= 0 and is_due(e.trigger, s.divisor)}
    return due


def _first_line(text: str) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "no error text"


def _allowance(allow_missed: bool | Mapping[str, int], player: str) -> float:
    if isinstance(allow_missed, Mapping):
        return allow_missed.get(player, 0)
    return float("inf") if allow_missed else 0


def check_acks(journal: Journal | Iterable[JournalEvent], *,
               allow_missed: bool | Mapping[str, int] = False) -> CheckResult:
    """Every due (trigger, player) acked exactly once (or, if allowed, journaled as missed).

    ``allow_missed`` is ``True`` (any number), ``False`` or, per player, how many triggers
    it may miss (a scenario's ``max_missed``); misses beyond that are findings.
    Metrics: ack latency distribution (seconds) per player and overall, outcome counts.
    """
    events = sorted(journal, key=lambda e: e.seq)
    outcomes: dict[tuple[int, str], list[JournalEvent]] = defaultdict(list)
    sent: set[tuple[int, str]] = set()
    findings: list[Finding] = []
    for e in events:
        if e.kind in _PROBLEMS:
            findings.append(Finding(f"player {e.player!r} " + _PROBLEMS[e.kind].format(trigger=e.trigger),
                                    trigger=e.trigger, player=e.player))
        elif e.trigger is None or e.player is None:
            continue  # not about a (trigger, player) pair
        elif e.kind is EventKind.TRIGGER_SENT:
            sent.add((e.trigger, e.player))
        elif e.kind in _OUTCOMES:
            outcomes[e.trigger, e.player].append(e)
    due = _due_pairs(events)
    missed_so_far: Counter[str] = Counter()
    for trigger, player in sorted(due | sent):
        findings += _pair_findings(trigger, player, outcomes.get((trigger, player), []), (trigger, player) in sent,
                                   (trigger, player) in due, missed_so_far, allow_missed)
    findings.sort(key=lambda f: (f.trigger or 0, f.player or ""))
    latencies: dict[str, list[float]] = defaultdict(list)
    for (_, player), got in outcomes.items():
        for o in got:
            if o.kind is EventKind.ACK and o.latency_s is not None:
                latencies[player].append(o.latency_s)
    metrics = {
        "latency_s": distribution([v for vs in latencies.values() for v in vs]),
        "players": {p: distribution(vs) for p, vs in latencies.items()},
        "outcomes": dict(Counter(o.kind.value for got in outcomes.values() for o in got)),
        "due": len(due),
    }
    return CheckResult("acks", tuple(findings), metrics, checked=len(due | sent))


def _pair_findings(trigger: int, player: str, got: list[JournalEvent], sent: bool, due: bool,
                   missed_so_far: Counter[str], allow_missed: bool | Mapping[str, int]) -> list[Finding]:
    messages: list[str] = []
    kinds = Counter(o.kind for o in got)
    if not sent:
        messages.append(f"player {player!r} was due on trigger {trigger} but it was never sent")
    elif not due:
        messages.append(f"trigger {trigger} was sent to player {player!r}, which was not due")
    if kinds[EventKind.NACK]:
        nack = next(o for o in got if o.kind is EventKind.NACK)
        messages.append(f"player {player!r} failed trigger {trigger}: {_first_line(nack.detail)}")
    elif kinds[EventKind.MISSED]:
        missed_so_far[player] += 1
        allowed = _allowance(allow_missed, player)
        if missed_so_far[player] > allowed:
            beyond = "" if allowed == 0 else f"; {allowed:g} allowed"
            messages.append(f"player {player!r} did not ack trigger {trigger} (journaled as missed{beyond})")
    elif not got and sent:
        messages.append(f"player {player!r} has no ack and no miss for trigger {trigger}")
    if kinds[EventKind.ACK] > 1 or (kinds[EventKind.ACK] and kinds[EventKind.MISSED]):
        messages.append(f"player {player!r} has {kinds[EventKind.ACK]} ack(s) and "
                        f"{kinds[EventKind.MISSED]} miss(es) for trigger {trigger}; expected one outcome")
    return [Finding(message, trigger=trigger, player=player) for message in messages]


def check_levels(journal: Journal | Iterable[JournalEvent]) -> CheckResult:
    """Levels never overlap and triggers never go backwards.

    For each trigger, no send to a level k+1 player may precede an outcome (ack, miss,
    nack) of a level k player; trigger numbers of sends never decrease.
    """
    events = sorted(journal, key=lambda e: e.seq)
    findings: list[Finding] = []
    last_sent_trigger = 0
    per_trigger: dict[int, list[JournalEvent]] = defaultdict(list)
    for e in events:
        if e.kind in (EventKind.TRIGGER_SENT, EventKind.RESENT, *_OUTCOMES) and e.trigger is not None:
            per_trigger[e.trigger].append(e)
        if e.kind is EventKind.TRIGGER_SENT and e.trigger is not None:
            if e.trigger < last_sent_trigger:
                findings.append(Finding(f"trigger {e.trigger} sent to {e.player!r} after trigger {last_sent_trigger}",
                                        trigger=e.trigger, player=e.player))
            last_sent_trigger = max(last_sent_trigger, e.trigger)
    for trigger, rows in sorted(per_trigger.items()):
        sent_level = {e.player: e.level for e in rows if e.kind is EventKind.TRIGGER_SENT}
        highest_sent_level: int | None = None
        for e in rows:
            level = e.level if e.level is not None else sent_level.get(e.player)
            if level is None:
                continue
            if e.kind in (EventKind.TRIGGER_SENT, EventKind.RESENT):
                highest_sent_level = level if highest_sent_level is None else max(highest_sent_level, level)
            elif highest_sent_level is not None and level < highest_sent_level:
                findings.append(Finding(
                    f"trigger {trigger}: level {highest_sent_level} was triggered before player {e.player!r} "
                    f"of level {level} finished ({e.kind.value} at journal line {e.seq})",
                    trigger=trigger, player=e.player))
    return CheckResult("levels", tuple(findings), {"triggers": len(per_trigger)}, checked=len(per_trigger))


def assert_acks(journal: Journal | Iterable[JournalEvent], *,
                allow_missed: bool | Mapping[str, int] = False) -> CheckResult:
    __tracebackhide__ = True
    return check_acks(journal, allow_missed=allow_missed).assert_passed()


def assert_levels(journal: Journal | Iterable[JournalEvent]) -> CheckResult:
    __tracebackhide__ = True
    return check_levels(journal).assert_passed()
