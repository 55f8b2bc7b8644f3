"""The trigger/acknowledge scheduler, without sockets.

The director's I/O loop feeds it what happened (acks, nacks, lost players, the clock)
and sends the :class:`SendTrigger` commands it returns. Everything it decides goes to the
journal, in the order it decided it, so the journal alone shows that levels never
overlapped and that every (trigger, player) pair sent was resolved exactly once: by an
ACK, a NACK or a MISSED event.

Semantics: triggers run one after another; within a trigger, priority levels run in
ascending order; every due player of a level gets the trigger at once; the next level
starts when each of them acked, nacked or was given up. The roster is read when a level
starts, so players that join take part from the next level they fit into.
"""

from __future__ import annotations

import enum
import json
import operator
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from harness.orchestra.journal import EventKind, Journal
from harness.orchestra.plan import AckPolicy, RunPlan, Seat

__all__ = ["RunState", "SendTrigger", "ScheduleResult", "TriggerScheduler"]

#: (trigger, player) pairs remembered for late answers: ~2 min at all-streams rates, ~10 MB; an answer to
#: an older pair is journaled as late without its latency (200,000 grew the director by ~100 MB)
MAX_RETAINED_PAIRS = 20_000
_EMPTY_TRIGGERS_PER_CALL = 64  # bounds work per call when no player is due for a while


class RunState(str, enum.Enum):
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"  # count reached
    STOPPED = "stopped"  # stop() honoured after a complete trigger
    ABORTED = "aborted"  # abort() or policy 'fail'

    @property
    def finished(self) -> bool:
        return self in (RunState.COMPLETED, RunState.STOPPED, RunState.ABORTED)


class SendTrigger(NamedTuple):
    """Command for the I/O loop: send ``trigger`` (attempt ``attempt``) to ``player``."""

    player: str
    trigger: int
    attempt: int


@dataclass(frozen=True)
class ScheduleResult:
    """Summary of a finished run; the journal has the detail."""

    state: RunState
    reason: str
    first_trigger: int
    last_trigger: int  # last trigger completed (first_trigger - 1 if none)
    acked: int
    nacked: int
    missed: int
    elapsed_s: float

    @property
    def triggers(self) -> int:
        return self.last_trigger - self.first_trigger + 1

    @property
    def ok(self) -> bool:
        """Completed or stopped with every pair acked."""
        return self.state in (RunState.COMPLETED, RunState.STOPPED) and self.nacked == 0 and self.missed == 0


_PENDING, _ACKED, _NACKED, _MISSED = "pending", "acked", "nacked", "missed"
_DEADLINE = operator.attrgetter("deadline")


class _Pair:
    __slots__ = ("trigger", "player", "level", "first_sent", "attempt", "deadline", "status", "answered")

    def __init__(self, trigger: int, player: str, level: int, now: float, deadline: float) -> None:
        self.trigger = trigger
        self.player = player
        self.level = level
        self.first_sent = now
        self.attempt = 1
        self.deadline = deadline
        self.status = _PENDING
        self.answered: set[int] = set()


class TriggerScheduler:
    """Drives one run.

    Parameters
    ----------
    plan
        The run's parameters.
    journal
        Where every decision is recorded.
    roster
        Returns the players that may take part now (registered, not lost).
    now
        The current ``time.monotonic()``.
    run_id
        Number of this run on its director; travels with every trigger and ack so that a late
        answer to an earlier run is never taken for an answer to this one.
    """

    def __init__(self, plan: RunPlan, journal: Journal, roster: Callable[[], Iterable[Seat]], now: float,
                 run_id: int = 1) -> None:
        self.plan = plan
        self.run_id = run_id
        self.journal = journal
        self._roster = roster
        self.state = RunState.RUNNING
        self.reason = ""
        self._started = now
        self._ended: float | None = None
        self._next_trigger = plan.first_trigger
        self._next_time = now
        self._trigger: int | None = None  # trigger in progress
        self._level = -1  # priority of the level in progress (or last visited)
        self._pending: dict[str, _Pair] = {}
        self._seats_seen: object = None
        self._level_groups: tuple[tuple[int, tuple[Seat, ...]], ...] = ()
        self._pairs: dict[tuple[int, str], _Pair] = {}
        self._forgotten_up_to = 0  # the newest trigger whose pair was dropped from memory
        self._order: deque[tuple[int, str]] = deque()
        self._pause_requested = self._stop_requested = False
        self._tally = {"acked": 0, "nacked": 0, "missed": 0}
        self._level_tally = dict(self._tally)
        journal.record(EventKind.RUN_STARTED, trigger=plan.first_trigger,
                       detail=json.dumps({**plan.to_dict(), "run": run_id}, sort_keys=True))

    # -- inputs -------------------------------------------------------------------------

    def begin(self, now: float) -> list[SendTrigger]:
        """Start the first trigger (or wait for its time)."""
        return self._advance(now)

    def on_ack(self, player: str, trigger: int, attempt: int, counts: Mapping[str, int],
               now: float) -> list[SendTrigger]:
        """An ack arrived from ``player``."""
        return self._answer(EventKind.ACK, player, trigger, attempt, counts, "", now)

    def on_nack(self, player: str, trigger: int, attempt: int, counts: Mapping[str, int], error: str,
                now: float) -> list[SendTrigger]:
        """A nack (the action raised) arrived from ``player``; ``error`` is its traceback."""
        return self._answer(EventKind.NACK, player, trigger, attempt, counts, error, now)

    def on_player_gone(self, player: str, reason: str, now: float) -> list[SendTrigger]:
        """``player`` left or was lost: what it still owed is missed."""
        pair = self._pending.get(player)
        if pair is None or self.state.finished:
            return []
        self._give_up(pair, f"player gone: {reason}")
        if self.plan.policy is AckPolicy.FAIL:
            self.abort(f"player {player!r} gone during trigger {pair.trigger}: {reason}", now)
            return []
        return self._after_resolution(now)

    def on_time(self, now: float) -> list[SendTrigger]:
        """The clock moved: apply ack deadlines and start the next trigger when due."""
        out: list[SendTrigger] = []
        for pair in [p for p in self._pending.values() if p.deadline <= now]:
            if self.state.finished:
                break
            out.extend(self._timeout(pair, now))
        out.extend(self._advance(now))
        return out

    def next_wakeup(self) -> float | None:
        """When :meth:`on_time` must be called next (``None``: only on input)."""
        if self.state is not RunState.RUNNING:
            return None
        if self._pending:
            earliest: float = min(map(_DEADLINE, self._pending.values()))
            return earliest
        return self._next_time if self._trigger is None else None

    # -- control ------------------------------------------------------------------------

    def pause(self, now: float) -> None:
        """Pause after the trigger in progress."""
        if self.state is RunState.RUNNING:
            self._pause_requested = True
            if self._trigger is None:
                self._enter_pause()

    def resume(self, now: float) -> list[SendTrigger]:
        self._pause_requested = False
        if self.state is not RunState.PAUSED:
            return []
        self.state = RunState.RUNNING
        self._next_time = now
        self.journal.record(EventKind.RUN_RESUMED, trigger=self._next_trigger)
        return self._advance(now)

    def stop(self, now: float) -> None:
        """End the run after the trigger in progress."""
        if self.state.finished:
            return
        self._stop_requested = True
        if self._trigger is None:
            self._finish(RunState.STOPPED, f"stopped on request before trigger {self._next_trigger}", now)

    def abort(self, reason: str, now: float) -> None:
        """End the run now; what is still owed is journaled as missed."""
        if self.state.finished:
            return
        for pair in list(self._pending.values()):
            self._give_up(pair, f"run aborted: {reason}")
        self._finish(RunState.ABORTED, reason, now)

    # -- queries ------------------------------------------------------------------------

    def busy_allowance(self, player: str) -> float:
        """How long ``player`` may stay silent because it owes an ack (it may be busy in its action).

        Measured from the player's last message, so a crashed player is still found out:
        its silence outgrows the allowance however many triggers were sent to it since.
        """
        if player in self._pending:
            return self.plan.ack_timeout_s * (self.plan.resends + 1)
        return 0.0

    @property
    def trigger_in_progress(self) -> int | None:
        return self._trigger

    @property
    def last_completed(self) -> int:
        return self._next_trigger - 1

    def result(self) -> ScheduleResult:
        end = self._ended if self._ended is not None else self._started
        return ScheduleResult(self.state, self.reason, self.plan.first_trigger, self.last_completed,
                         self._tally["acked"], self._tally["nacked"], self._tally["missed"], end - self._started)

    # -- internals ----------------------------------------------------------------------

    def _advance(self, now: float) -> list[SendTrigger]:
        out: list[SendTrigger] = []
        for _ in range(_EMPTY_TRIGGERS_PER_CALL):
            if self.state is not RunState.RUNNING or self._trigger is not None or now < self._next_time:
                break
            self._trigger, self._level = self._next_trigger, -1
            out = self._next_level(self._next_trigger, now)
            if out:
                break
        return out

    def _levels(self) -> tuple[tuple[int, tuple[Seat, ...]], ...]:
        """The roster grouped by ascending priority; regrouped only when the roster changed."""
        seats = self._roster()
        if seats is not self._seats_seen or not isinstance(seats, tuple):
            by_level: dict[int, list[Seat]] = {}
            for seat in seats:
                if seat.priority >= 0:
                    by_level.setdefault(seat.priority, []).append(seat)
            self._seats_seen = seats
            self._level_groups = tuple((level, tuple(by_level[level])) for level in sorted(by_level))
        return self._level_groups

    def _next_level(self, trigger: int, now: float) -> list[SendTrigger]:
        above = self._level
        for level, seats in self._levels():
            if level <= above:
                continue
            due = [s.name for s in seats if (trigger - 1) % s.divisor == 0]  # is_due, inlined: hot path
            if due:
                return self._send_level(trigger, level, due, now)
        self._finish_trigger(trigger, now)
        return []

    def _send_level(self, trigger: int, level: int, names: list[str], now: float) -> list[SendTrigger]:
        self._level = level
        self._level_tally = {"acked": 0, "nacked": 0, "missed": 0}
        deadline = now + self.plan.ack_timeout_s
        append, out, sent = self.journal.append, [], EventKind.TRIGGER_SENT
        pending, remember = self._pending, self._remember
        for name in names:
            pending[name] = pair = _Pair(trigger, name, level, now, deadline)
            remember(pair)
            append(sent, trigger, level, name, 1)
            out.append(tuple.__new__(SendTrigger, (name, trigger, 1)))  # the NamedTuple's __new__ is Python code
        return out

    def _remember(self, pair: _Pair) -> None:
        key = (pair.trigger, pair.player)
        self._pairs[key] = pair
        self._order.append(key)
        if len(self._order) > MAX_RETAINED_PAIRS:
            old = self._order.popleft()
            self._pairs.pop(old, None)
            self._forgotten_up_to = max(self._forgotten_up_to, old[0])

    def _answer(self, kind: EventKind, player: str, trigger: int, attempt: int, counts: Mapping[str, int],
                error: str, now: float) -> list[SendTrigger]:
        pair = self._pairs.get((trigger, player))
        if pair is None and trigger <= self._forgotten_up_to:
            self.journal.record(EventKind.LATE_ACK, trigger=trigger, player=player, attempt=attempt,
                                counts=dict(counts), detail=f"{kind.value} for trigger {trigger} of run {self.run_id}, "
                                f"older than the {MAX_RETAINED_PAIRS} pairs remembered")
            return []
        if pair is None or attempt > pair.attempt:
            what = f"trigger {trigger}" if pair is None else f"attempt {attempt} of trigger {trigger}"
            self.journal.record(EventKind.WRONG_ACK, trigger=trigger, player=player, attempt=attempt,
                                counts=dict(counts),
                                detail=f"{kind.value} for {what} of run {self.run_id}, which was never sent to it")
            return []
        if pair.status != _PENDING:
            self._stray(kind, pair, attempt, counts, now)
            return []
        pair.answered.add(attempt)
        pair.status = _ACKED if kind is EventKind.ACK else _NACKED
        del self._pending[player]
        self.journal.append(kind, trigger, pair.level, player, attempt, now - pair.first_sent,
                            counts if type(counts) is dict else dict(counts), error)
        self._count(pair.status)
        if kind is EventKind.NACK and self.plan.policy is AckPolicy.FAIL:
            self.abort(f"player {player!r} failed trigger {trigger} (nack)", now)
            return []
        return self._after_resolution(now)

    def _stray(self, kind: EventKind, pair: _Pair, attempt: int, counts: Mapping[str, int], now: float) -> None:
        if attempt in pair.answered:
            event, detail = EventKind.DUPLICATE_ACK, f"second {kind.value} for attempt {attempt} of run {self.run_id}"
        else:
            event, detail = EventKind.LATE_ACK, (f"{kind.value} for attempt {attempt} of run {self.run_id} "
                                                 f"after the pair was {pair.status}")
        pair.answered.add(attempt)
        self.journal.record(event, trigger=pair.trigger, level=pair.level, player=pair.player, attempt=attempt,
                            latency_s=now - pair.first_sent, counts=dict(counts), detail=detail)

    def _timeout(self, pair: _Pair, now: float) -> list[SendTrigger]:
        plan = self.plan
        self.journal.record(EventKind.TIMEOUT, trigger=pair.trigger, level=pair.level, player=pair.player,
                            attempt=pair.attempt, detail=f"no ack within {plan.ack_timeout_s:g} s")
        if plan.policy is AckPolicy.RESEND and pair.attempt <= plan.resends:
            pair.attempt += 1
            pair.deadline = now + plan.ack_timeout_s
            self.journal.record(EventKind.RESENT, trigger=pair.trigger, level=pair.level, player=pair.player,
                                attempt=pair.attempt)
            return [SendTrigger(pair.player, pair.trigger, pair.attempt)]
        self._give_up(pair, f"no ack after {pair.attempt} attempt(s) of {plan.ack_timeout_s:g} s")
        if plan.policy is AckPolicy.FAIL:
            self.abort(f"player {pair.player!r} did not ack trigger {pair.trigger} within "
                       f"{plan.ack_timeout_s:g} s", now)
            return []
        return self._after_resolution(now)

    def _give_up(self, pair: _Pair, reason: str) -> None:
        pair.status = _MISSED
        self._pending.pop(pair.player, None)
        self.journal.record(EventKind.MISSED, trigger=pair.trigger, level=pair.level, player=pair.player,
                            attempt=pair.attempt, detail=reason)
        self._count(_MISSED)

    def _count(self, status: str) -> None:
        self._tally[status] += 1
        self._level_tally[status] += 1

    def _after_resolution(self, now: float) -> list[SendTrigger]:
        if self._pending or self.state.finished:
            return []
        trigger = self._trigger
        if trigger is None:
            raise RuntimeError(f"run {self.run_id}: a level was resolved with no trigger in progress")
        tally = self._level_tally
        self.journal.append(EventKind.LEVEL_DONE, trigger, self._level,
                            detail=f'{{"acked": {tally["acked"]}, "nacked": {tally["nacked"]}, '
                                   f'"missed": {tally["missed"]}}}')
        out = self._next_level(trigger, now)
        return out if out else self._advance(now)

    def _finish_trigger(self, trigger: int, now: float) -> None:
        self._trigger = None
        self._next_trigger = trigger + 1
        period = self.plan.period_s
        # keep the base rate without drift; after a stall of under catch_up periods, the next triggers go
        # as soon as each completes until the schedule is met; a longer stall moves the schedule to now
        scheduled = self._next_time + period
        self._next_time = scheduled if scheduled + self.plan.catch_up * period > now else now
        if self.plan.count is not None and trigger >= self.plan.first_trigger + self.plan.count - 1:
            self._finish(RunState.COMPLETED, f"completed {self.plan.count} trigger(s)", now)
        elif self._stop_requested:
            self._finish(RunState.STOPPED, f"stopped on request after trigger {trigger}", now)
        elif self._pause_requested:
            self._enter_pause()

    def _enter_pause(self) -> None:
        self._pause_requested = False
        self.state = RunState.PAUSED
        self.journal.record(EventKind.RUN_PAUSED, trigger=self._next_trigger,
                            detail=f"paused before trigger {self._next_trigger}")

    def _finish(self, state: RunState, reason: str, now: float) -> None:
        self.state, self.reason, self._ended = state, reason, now
        self._trigger = None
        kind = EventKind.RUN_ABORTED if state is RunState.ABORTED else EventKind.RUN_STOPPED
        self.journal.record(kind, trigger=self.last_completed, detail=reason)
