"""What the players of a run produced: per stream counts and rates, the topics, and the journal.

Counts come from the players' acks (which carry Kafka's delivery reports), rates from
the journal's trigger times, and ``in_kafka`` from the topics' offsets, so each figure
says where it was measured.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.checks.config import RateOptions
from harness.orchestra.ack import AckAfter
from harness.orchestra.journal import EventKind, Journal, JournalEvent
from harness.scenarios import PlayerSpec, Scenario

__all__ = ["StreamSummary", "RunSummary", "events_by_player", "summarise_player"]


@dataclass(frozen=True)
class StreamSummary:
    """One player's stream in a run.

    ``nominal_rate_hz``/``achieved_rate_hz`` are trigger rates of this player (the
    achieved one from the director's send times of its triggers); ``message_rate_hz``
    is messages per second over the same span. ``messages``/``bytes``/``delivered``/
    ``failed`` sum the player's acks; ``in_kafka`` counts the messages in its topic
    (``None`` when the topic is shared with other players or was not checked).

    ``problems`` are losses (missed or failed triggers, undelivered messages);
    ``rate_problem`` says how the achieved rate missed the expectation, if it did (never
    for a stream of fewer than three messages, such as run control: it is unrated).
    A machine under load can miss rates without losing anything: :attr:`complete`
    ignores rates, :attr:`ok` does not.
    """

    player: str
    stream: str
    topic: str
    schemas: tuple[str, ...]
    nominal_rate_hz: float
    achieved_rate_hz: float | None
    message_rate_hz: float | None
    triggers_due: int
    acks: int
    nacks: int
    missed: int
    messages: int
    bytes: int
    delivered: int
    failed: int
    in_kafka: int | None = None
    problems: tuple[str, ...] = ()
    rate_problem: str = ""
    ack_after: AckAfter = AckAfter.DELIVERY

    @property
    def delivered_at_ack(self) -> str:
        """``delivered`` as the table shows it: a player acking at send reports only the
        confirmations that had arrived by each ack, so its count is marked as such
        (``in_kafka`` is what checks its delivery)."""
        if self.ack_after is AckAfter.SEND and self.delivered < self.messages:
            return f"{self.delivered} by ack"
        return str(self.delivered)

    @property
    def complete(self) -> bool:
        """Nothing lost: every due trigger acked, every message delivered."""
        return not self.problems

    @property
    def ok(self) -> bool:
        """Complete, and at the expected rate."""
        return self.complete and not self.rate_problem

    def to_dict(self) -> dict[str, Any]:
        return {
            "player": self.player, "stream": self.stream, "topic": self.topic, "schemas": list(self.schemas),
            "messages": self.messages, "bytes": self.bytes, "nominal_rate_hz": self.nominal_rate_hz,
            "achieved_rate_hz": self.achieved_rate_hz, "message_rate_hz": self.message_rate_hz,
            "triggers_due": self.triggers_due, "acks": self.acks, "nacks": self.nacks, "missed": self.missed,
            "delivered": self.delivered, "failed": self.failed, "in_kafka": self.in_kafka,
            "ack_after": self.ack_after.value,
            "ok": self.ok, "complete": self.complete, "problems": list(self.problems),
            "rate_problem": self.rate_problem,
        }


@dataclass
class RunSummary:
    """What the players did in a run: the scenario, where its data went, per stream summaries, the journal.

    ``elapsed_s`` is the director's run (first trigger to last ack), ``drain_s`` the time
    the players then took to stop (flushing what Kafka had not confirmed, run stops).
    """

    scenario: Scenario
    bootstrap: str
    topics: dict[str, str]
    streams: tuple[StreamSummary, ...]
    journal: Journal
    elapsed_s: float
    outcome: str
    problems: tuple[str, ...] = ()
    drain_s: float = 0.0
    player_logs: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """The run ended normally and no stream lost anything (rates aside)."""
        return not self.problems and all(s.complete for s in self.streams)

    @property
    def ok(self) -> bool:
        """Complete, and every stream at its expected rate."""
        return self.complete and all(s.ok for s in self.streams)

    def stream(self, player: str) -> StreamSummary:
        for summary in self.streams:
            if summary.player == player:
                return summary
        raise KeyError(f"no stream of player {player!r}; players: {[s.player for s in self.streams]}")

    def all_problems(self, rates: bool = True) -> list[str]:
        """Every problem as one line each (with the rate misses unless ``rates`` is false)."""
        found = [*self.problems, *(f"{s.player}: {p}" for s in self.streams for p in s.problems)]
        if rates:
            found += [f"{s.player}: {s.rate_problem}" for s in self.streams if s.rate_problem]
        return found

    def to_dict(self, journal: bool = False) -> dict[str, Any]:
        """JSON-able: scenario, topics and per stream figures (and the journal rows if asked)."""
        data = {
            "scenario": self.scenario.name,
            "definition": self.scenario.to_dict(),
            "bootstrap": self.bootstrap,
            "topics": dict(self.topics),
            "outcome": self.outcome,
            "ok": self.ok,
            "complete": self.complete,
            "elapsed_s": self.elapsed_s,
            "drain_s": self.drain_s,
            "triggers": self.scenario.triggers,
            "problems": self.all_problems(),
            "streams": {s.player: s.to_dict() for s in self.streams},
        }
        if journal:
            data["journal"] = self.journal.to_rows()
        return data


def _rate(times: list[float], per_step: float = 1.0) -> float | None:
    if len(times) < 2 or times[-1] <= times[0]:
        return None
    return (len(times) - 1) * per_step / (times[-1] - times[0])


def events_by_player(journal: Iterable[JournalEvent]) -> dict[str, list[JournalEvent]]:
    """The journal's events per player, in one pass (a long journal is read back from its spill file:
    one pass per player cost seconds after a run of eight players)."""
    grouped: dict[str, list[JournalEvent]] = defaultdict(list)
    for event in journal:
        if event.player is not None:
            grouped[event.player].append(event)
    return grouped


def summarise_player(spec: PlayerSpec, scenario: Scenario, topic: str, schemas: tuple[str, ...],
                     journal: Journal | Sequence[JournalEvent], in_kafka: int | None,
                     rates: RateOptions | None = None) -> StreamSummary:
    """The summary of ``spec`` from the run's journal (and the topic's message count).

    ``journal`` is the run's whole journal, or only this player's events (from
    :func:`events_by_player`, when summarising every player). ``rates`` are the rates
    check's options of the run (its tolerance, when set, replaces the player's
    ``expect.rate_tolerance``), so the summary and the check agree.
    """
    events = [e for e in journal if e.player == spec.name]
    sent = sorted(e.mono for e in events if e.kind is EventKind.TRIGGER_SENT)
    acks = [e for e in events if e.kind is EventKind.ACK]
    def total(key: str) -> int:
        return sum(int(e.counts.get(key, 0)) for e in acks)

    nominal = spec.rate_hz(scenario.rate_hz)
    achieved = _rate(sent)
    message_rate = None if achieved is None or not acks else achieved * total("messages") / len(acks)
    summary = StreamSummary(
        player=spec.name, stream=spec.stream, topic=topic, schemas=schemas, nominal_rate_hz=nominal,
        achieved_rate_hz=achieved, message_rate_hz=message_rate,
        triggers_due=_due_count(spec, scenario), acks=len(acks),
        nacks=sum(1 for e in events if e.kind is EventKind.NACK),
        missed=sum(1 for e in events if e.kind is EventKind.MISSED),
        in_kafka=in_kafka, messages=total("messages"), bytes=total("bytes"), delivered=total("delivered"),
        failed=total("failed"), ack_after=spec.ack,
    )
    return _with_problems(summary, spec, sent, rates)


def _due_count(spec: PlayerSpec, scenario: Scenario) -> int:
    if not spec.enabled or scenario.triggers is None:
        return 0
    return (scenario.triggers - 1) // spec.divisor + 1  # due on trigger 1 and every divisor-th after


def _with_problems(summary: StreamSummary, spec: PlayerSpec, sent: list[float], rates: RateOptions | None
                   ) -> StreamSummary:
    from dataclasses import replace

    problems = []
    if summary.acks < summary.triggers_due - spec.expect.max_missed:
        problems.append(f"{summary.acks} of {summary.triggers_due} due triggers acknowledged "
                        f"({summary.missed} missed, {summary.nacks} failed; {spec.expect.max_missed} may be missed)")
    if summary.failed:
        problems.append(f"Kafka reported {summary.failed} of {summary.messages} messages as not delivered")
    elif spec.ack is AckAfter.DELIVERY and summary.delivered != summary.messages:
        problems.append(f"only {summary.delivered} of {summary.messages} messages confirmed by Kafka at ack time")
    if summary.in_kafka is not None and summary.in_kafka < max(summary.delivered, summary.messages):
        problems.append(f"the topic holds {summary.in_kafka} messages but {summary.messages} were sent "
                        f"({summary.delivered} confirmed in acks)")
    return replace(summary, problems=tuple(problems), rate_problem=_rate_problem(summary, spec, sent, rates))


def _rate_problem(summary: StreamSummary, spec: PlayerSpec, sent: list[float], rates: RateOptions | None) -> str:
    """How the director's trigger times for ``spec`` missed its rate (``""``: they did not, or it is unrated).

    The same verdict as the rates check (:func:`harness.checks.rates.rate_verdict`: the
    tolerance plus a bound from the jitter seen). A stream with fewer messages than
    ``min_messages`` (run control: a start and a stop) or fewer than three triggers has no
    rate of its own and is never called slow.
    """
    from harness.checks.rates import MIN_TRIGGERS, rate_verdict

    options = rates if rates is not None else RateOptions()
    if summary.messages < options.min_messages or len(sent) < MIN_TRIGGERS or summary.triggers_due < MIN_TRIGGERS:
        return ""
    tolerance = spec.expect.rate_tolerance if options.tolerance is None else options.tolerance
    _, problem = rate_verdict(sent, summary.nominal_rate_hz, tolerance=tolerance, statistic=options.statistic,
                              confidence=options.confidence)
    return problem
