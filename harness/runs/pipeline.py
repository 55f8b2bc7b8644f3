"""The one pipeline that runs a scenario, whatever calls it (``donki run``, ``donki golden``,
``pytest --donki-scenario``, the fixtures, the benchmarks).

Read top to bottom, :func:`run` is the whole story of a run:

1. size: the caller hands a :class:`~harness.runs.sizing.SizedScenario` (scenario at its
   length, and the name of its golden recording); the golden step is planned first, so a
   missing golden recording fails before anything starts;
2. topics: created once, in the caller's namespace or under a fresh prefix;
3. recorder: subscribed from the topics' empty beginning, before the first trigger;
4. source: the live players under a director, or the golden recording replayed
   (``before_run`` is called just before, and what it returns is kept in the outcome);
   a scenario written for a file writer gets the file-writer double in the loop;
5. count: each topic's messages from its offsets, once, for the summary and the recorder;
6. check: every check over the recording, the file the double wrote, and the golden comparison;
7. outcome: one :class:`~harness.runs.outcome.RunOutcome`; the golden recording is
   written by :meth:`RunOutcome.finish` once the caller knows the test passed.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.checks.config import ChecksConfig
from harness.config import enum_member
from harness.errors import BrokerLostError, ConfigError, DonkiError, RecordingError, RunError, ScenarioError
from harness.runs.golden import GoldenAction, GoldenOutcome, GoldenRequest, plan_golden
from harness.runs.live import REGISTER_TIMEOUT_S, SourceRun, drive_players
from harness.runs.outcome import RunOutcome
from harness.runs.summary import RunSummary, events_by_player, summarise_player
from harness.runs.topics import RunTopics, create_run_topics
from harness.streams.brokerfaults import BrokerFaultInjector

if TYPE_CHECKING:
    from harness.checks.result import CheckResult
    from harness.filewriter.loop import WriterInTheLoop, WrittenFile
    from harness.kafka import Broker, TopicNamespace
    from harness.recording.golden.compare import Comparison, Tolerance
    from harness.recording.reader.reader import Recording
    from harness.recording.writer.recorder import Recorder
    from harness.runs.sizing import SizedScenario

__all__ = ["RunRequest", "RunSource", "run", "record_golden", "compare_golden", "DRAIN_TIMEOUT_S"]

DRAIN_TIMEOUT_S = 60.0  # the recorder catches up with what the topics hold


def _quiet(_message: str) -> None:
    pass


class RunSource(enum.Enum):
    """Where a run's streams come from."""

    LIVE = "live"  # player processes under a director
    GOLDEN = "golden"  # the golden recording, replayed: same bytes every run, no players

    @classmethod
    def parse(cls, value: RunSource | str, where: str) -> RunSource:
        return enum_member(cls, value, where, "source")


@dataclass(frozen=True)
class RunRequest:
    """Everything a run needs.

    ``broker`` is a started :class:`~harness.kafka.Broker` or a bootstrap address. With a
    ``workdir`` the run is recorded there and checked (``checks`` says which checks run and
    with which options; ``ChecksConfig.only("golden")`` keeps only the golden comparison);
    without one it is counted and summarised only. ``golden`` names the
    golden recording (``None``: none). Topics go into ``namespace`` or under
    ``topic_prefix``; ``keep_topics`` leaves them for the caller (:meth:`RunOutcome.close`).
    ``before_run(topics)`` is called once the topics exist and the recorder listens, before
    the first trigger: the moment to start a consumer under test; what it returns (the
    service it started, say) is the outcome's ``started``. ``source`` GOLDEN replays the
    golden recording (at ``replay_speed``) instead of running players. ``ensemble_options``
    place the director and the players (see :func:`~harness.runs.live.drive_players`).
    """

    scenario: SizedScenario
    broker: Broker | str
    workdir: Path | None = None
    golden: GoldenRequest | None = None
    checks: ChecksConfig = field(default_factory=ChecksConfig)
    tolerance: Tolerance | None = None
    mode: str = "process"
    namespace: TopicNamespace | None = None
    topic_prefix: str | None = None
    keep_topics: bool = False
    before_run: Callable[[dict[str, str]], object] | None = None
    source: RunSource = RunSource.LIVE
    replay_speed: float | None = 1.0
    log_dir: Path | None = None
    register_timeout_s: float = REGISTER_TIMEOUT_S
    ensemble_options: Mapping[str, Any] | None = None
    log: Callable[[str], None] = _quiet


def run(request: RunRequest) -> RunOutcome:
    """Run ``request`` through every step; bad input raises :class:`~harness.errors.DonkiError`,
    a run that went badly returns an outcome whose checks (or summary) say what went wrong."""
    scenario = request.scenario.scenario
    if scenario.triggers is None:
        raise ScenarioError(f"scenario {scenario.name!r} has no run length; use scenario.with_length(...)")
    golden = plan_golden(request.golden)
    if request.source is RunSource.GOLDEN and golden.plan is None:
        raise ConfigError(f"{scenario.name}: source 'golden' replays the golden recording, but the run has none "
                          "(golden=False); name one, or use source 'live'")
    if request.source is RunSource.GOLDEN and golden.plan is not None and not golden.plan.exists:
        raise RecordingError(f"source 'golden' replays the golden recording {golden.path}, which does not exist; "
                             "record it from a live run first (--donki-record-mode=once) or use source 'live'")
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    bootstrap, client = _client(request.broker)
    faults = BrokerFaultInjector(request.broker, scenario.broker_faults)  # a broker that cannot: refused now
    topics = create_run_topics(scenario, client, namespace=request.namespace, prefix=request.topic_prefix)
    request.log(f"topics {', '.join(topics.names.values())}")
    try:
        players, counts, recording, started = _record_while_driving(request, golden, bootstrap, client, topics,
                                                                    faults)
    except BrokerLostError:
        raise  # deleting topics on a cluster that is gone would only wait out the admin timeout
    except BaseException:
        topics.delete()
        raise
    summary = _summarise(request, bootstrap, topics, players, counts)
    outcome = RunOutcome(request.scenario, summary, topics, recording, golden=golden, started=started,
                         started_at=started_at, broker=_broker_facts(request.broker), written=players.written)
    if recording is not None:
        _check(outcome, recording, request)
    if not request.keep_topics:
        topics.delete()
    return outcome


def _broker_facts(broker: Broker | str) -> dict[str, str]:
    """What a report says about the cluster besides its address: provider and Kafka version."""
    if isinstance(broker, str):
        return {"kind": "external"}
    facts = {"kind": str(broker.provider)}
    if broker.version:
        facts["kafka"] = str(broker.version)
    return facts


def _client(broker: Broker | str) -> tuple[str, dict[str, Any]]:
    if isinstance(broker, str):
        return broker, {"bootstrap.servers": broker}
    return broker.bootstrap_servers, dict(broker.client_config)


def _record_while_driving(request: RunRequest, golden: GoldenOutcome, bootstrap: str, client: Mapping[str, Any],
                          topics: RunTopics, faults: BrokerFaultInjector
                          ) -> tuple[SourceRun, dict[str, int], Path | None, object]:
    workdir = request.workdir
    recorder = _start_recorder(request, workdir, topics, client) if workdir is not None else None
    writer = _file_writer(request, client)
    try:
        if writer is not None:
            writer.before_run(dict(topics.names))
        started = request.before_run(dict(topics.names)) if request.before_run is not None else None
        players = _drive(request, golden, bootstrap, client, topics, faults)
        if writer is not None:
            players.written = writer.finish()
        counts = _count(client, topics)
        if recorder is not None:
            expected = sum(counts.values())
            if not recorder.wait_for(expected, DRAIN_TIMEOUT_S):
                raise RecordingError(f"recording {recorder.path}: only {recorder.stats.messages} of the run's "
                                     f"{expected} messages arrived within {DRAIN_TIMEOUT_S:.0f} s")
            recorder.journal = players.journal
    finally:
        if recorder is not None:
            stats = recorder.stop()
            request.log(f"recorded {stats.messages} messages of {request.scenario.scenario.name!r} into {stats.path}")
    return players, counts, Path(recorder.path) if recorder is not None else None, started


def _file_writer(request: RunRequest, client: Mapping[str, Any]) -> WriterInTheLoop | None:
    """The file-writer double for a recorded live run of a scenario meant for a file writer.

    It runs whether or not its check does, so a golden recording holds what a test run
    holds (the double's answ to the run start, on the job pool).
    """
    from harness.filewriter.loop import WriterInTheLoop, file_writing_player

    scenario = request.scenario.scenario
    if request.workdir is None or request.source is not RunSource.LIVE or file_writing_player(scenario) is None:
        return None
    return WriterInTheLoop(scenario, client, request.workdir / "files")


def _tolerance(request: RunRequest) -> Tolerance | None:
    """The golden comparison's tolerance; the file-writer double's answ (its times differ each run) by schema."""
    from dataclasses import replace

    from harness.filewriter.loop import file_writing_player
    from harness.recording.golden.compare import Tolerance

    player = file_writing_player(request.scenario.scenario)
    if player is None:
        return request.tolerance
    base = request.tolerance or Tolerance()
    return replace(base, per_stream={f"{player.topic}[0]": "schema", **base.per_stream})


def _drive(request: RunRequest, golden: GoldenOutcome, bootstrap: str, client: Mapping[str, Any],
           topics: RunTopics, faults: BrokerFaultInjector) -> SourceRun:
    if request.source is RunSource.GOLDEN and golden.path is not None:
        from harness.runs.replayed import replay_source

        request.log(f"replaying {golden.path} into the run's topics")
        return replay_source(golden.path, client, topics.names, speed=request.replay_speed)
    return drive_players(request.scenario.scenario, bootstrap, topics.names, mode=request.mode,
                         log_dir=request.log_dir, register_timeout_s=request.register_timeout_s,
                         client_config=client, faults=faults, ensemble_options=request.ensemble_options,
                         log=request.log)


def _start_recorder(request: RunRequest, workdir: Path, topics: RunTopics, client: Mapping[str, Any]) -> Recorder:
    from harness.recording.writer.recorder import Recorder

    scenario = request.scenario.scenario
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / (re.sub(r"[^A-Za-z0-9._-]+", "-", scenario.name) + ".h5")
    meta = {"namespace": topics.prefix, "scenario_name": scenario.name, "triggers": scenario.triggers,
            "topic_map": dict(topics.names)}
    return Recorder(path, list(topics.names.values()), client, start="earliest", overwrite=True, metadata=meta,
                    scenario=scenario.to_dict()).start()


def _count(client: Mapping[str, Any], topics: RunTopics) -> dict[str, int]:
    from harness.streams.readback import topic_message_count

    try:
        return {local: topic_message_count(client, full) for local, full in topics.names.items()}
    except DonkiError as exc:
        raise RunError(f"the run ended but its topics could not be counted: {exc}") from None


def _summarise(request: RunRequest, bootstrap: str, topics: RunTopics, players: SourceRun,
               counts: dict[str, int]) -> RunSummary:
    from harness.kinds import get_stream_kind

    scenario = request.scenario.scenario
    shared = {p.topic for p in scenario.players if sum(q.topic == p.topic for q in scenario.players) > 1}
    events = events_by_player(players.journal)
    streams = tuple(
        summarise_player(p, scenario, topics.names[p.topic], get_stream_kind(p.stream).schemas,
                         events.get(p.name, []), None if p.topic in shared else counts.get(p.topic),
                         rates=request.checks.rates)
        for p in scenario.players)
    return RunSummary(scenario, bootstrap, dict(topics.names), streams, players.journal, players.elapsed_s,
                      players.outcome, tuple(players.problems), players.drain_s, players.player_logs)


def _check(outcome: RunOutcome, path: Path, request: RunRequest) -> None:
    """Compare with the golden recording and, unless the request says not to, run every check."""
    from harness.checks.config import CHECK_NAMES
    from harness.checks.suite import checks_of
    from harness.orchestra import EventKind
    from harness.recording.golden.compare import compare_recordings
    from harness.recording.reader.reader import Recording

    golden: GoldenOutcome = outcome.golden
    config = request.checks
    with Recording(path) as recording:
        if golden.action is GoldenAction.COMPARED and golden.path is not None and config.enabled("golden"):
            outcome.comparison = compare_recordings(golden.path, recording, tolerance=_tolerance(request),
                                                    namespace=outcome.namespace)
        if all(not config.enabled(name) for name in CHECK_NAMES if name != "golden"):
            return  # a comparison alone (donki golden compare): the recording is not read again
        outcome.checks, checked = checks_of(outcome.scenario, outcome.summary.journal, recording,
                                            problems=outcome.summary.problems, comparison=outcome.comparison,
                                            config=config)
        outcome.trigger_times = checked.trigger_times()
        if outcome.written and config.enabled("file-writer"):
            outcome.checks["file-writer"] = _check_written(outcome.written, recording)
            outcome.checks = {name: outcome.checks[name] for name in CHECK_NAMES if name in outcome.checks}
    for event in outcome.summary.journal:  # iterated: a long journal is read back from its spill file
        if event.kind is EventKind.ACK and event.player is not None and event.latency_s is not None:
            outcome.ack_latencies_s.setdefault(event.player, []).append(event.latency_s)


def record_golden(request: RunRequest) -> Path | None:
    """Run ``request`` (recorded, golden named) and write its golden recording if the run was complete.

    Returns the written path, or ``None`` when the record mode keeps the file or the run
    lost data (said through ``request.log``).
    """
    golden = plan_golden(request.golden)
    if golden.action is not GoldenAction.PENDING:
        request.log(f"{golden.path}: kept (record mode {golden.store.mode if golden.store else '-'})")
        return None
    outcome = run(request)
    complete = outcome.summary.complete
    if not complete:
        request.log(f"{outcome.scenario.name}: the run was not complete, no golden recording written: "
                    f"{outcome.summary.all_problems()}")
    return outcome.finish(passed=complete)


def compare_golden(request: RunRequest) -> Comparison:
    """Run ``request`` (recorded, golden named, record mode ``none``) and compare it with its golden recording."""
    outcome = run(request)
    if outcome.comparison is None:
        raise RecordingError(
            f"{outcome.scenario.name}: no golden recording was compared ({outcome.golden.action.value})")
    return outcome.comparison


def _check_written(written: list[WrittenFile], recording: Recording) -> CheckResult:
    """The file-writer check: the double's file holds exactly the run's data between start and stop."""
    from harness.checks.filewriter import check_file_writer
    from harness.checks.result import CheckResult, Finding

    (first, *others) = written
    if first.error is not None:
        return CheckResult("file-writer", (Finding(f"the file writer reported job {first.job_id!r}: {first.error}"),),
                           {"file": str(first.path)}, checked=1)
    result = check_file_writer(recording.records(), first.path, job_id=first.job_id)
    result.metrics["file"] = str(first.path)
    if others:
        result.metrics["more_files"] = [str(f.path) for f in others]
    return result
