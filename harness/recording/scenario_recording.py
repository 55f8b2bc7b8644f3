"""Recording a scenario run: the recorder subscribes before the first trigger, the
journal and the scenario go into the file, and golden recordings are made from it.

The run's topics are created first and the recorder starts on them (from their empty
beginning) before the scenario runner starts the players, so nothing is missed; the
recorder stops once it holds every message the topics received.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness.errors import RecordingError
from harness.recording.compare import Comparison, Tolerance, compare_recordings
from harness.recording.golden import GoldenStore
from harness.recording.recorder import Recorder, RecorderStats

__all__ = ["ScenarioRecording", "record_scenario", "golden_scenario", "record_golden", "compare_with_golden",
           "GOLDEN_MAX_TRIGGERS"]

#: Golden recordings of the built-ins are short: the CI variant, at most this many triggers
#: (every stream of every built-in still appears; the largest file, ess-pulse, stays ~4 MB).
GOLDEN_MAX_TRIGGERS = 5
DRAIN_TIMEOUT_S = 60.0


@dataclass
class ScenarioRecording:
    """A scenario run and its recording."""

    path: Path
    result: Any  # harness.scenarios.result.RunResult
    stats: RecorderStats
    namespace: str


def golden_scenario(name_or_scenario: Any) -> Any:
    """The variant of a scenario that golden recordings hold: CI-sized and short."""
    from harness.scenarios import load_scenario

    scenario = load_scenario(name_or_scenario) if isinstance(name_or_scenario, (str, Path)) else name_or_scenario
    scenario = scenario.ci()
    if scenario.triggers is None or scenario.triggers > GOLDEN_MAX_TRIGGERS:
        scenario = scenario.with_length(triggers=GOLDEN_MAX_TRIGGERS)
    return scenario


def _client_config(broker: Any) -> dict[str, Any]:
    return {"bootstrap.servers": broker} if isinstance(broker, str) else dict(broker.client_config)


def record_scenario(scenario: Any, broker: Any, path: str | Path, *, overwrite: bool = False, mode: str = "process",
                    log: Callable[[str], None] = lambda _m: None, keep_topics: bool = False,
                    before_run: Callable[[dict[str, str]], None] | None = None) -> ScenarioRecording:
    """Run ``scenario`` against ``broker`` and record all its topics into ``path``.

    ``before_run`` is called with the run's topics (local name -> full name) once they
    exist and the recorder listens, before the first trigger: the moment to start a
    consumer under test. With ``keep_topics`` the topics outlive the call (the caller
    deletes them).
    """
    from harness.kafka import TopicAdmin, TopicSpec
    from harness.scenarios.runner import run_scenario, topic_names
    from harness.streams.readback import topic_message_count

    client = _client_config(broker)
    prefix = f"donki-rec-{scenario.name}-{uuid.uuid4().hex[:8]}"
    topics = topic_names(scenario, prefix)
    admin = TopicAdmin(client)
    admin.create([TopicSpec(topics[local], n) for local, n in scenario.topics().items()], exist_ok=True)
    meta = {"namespace": prefix, "scenario_name": scenario.name, "triggers": scenario.triggers,
            "topic_map": topics}
    recorder = Recorder(path, list(topics.values()), client, start="earliest", overwrite=overwrite, metadata=meta,
                        scenario=scenario.to_dict()).start()
    try:
        if before_run is not None:
            before_run(dict(topics))
        result = run_scenario(scenario, broker, topic_prefix=prefix, mode=mode, log=log)
        expected = sum(topic_message_count(client, topic) for topic in topics.values())
        if not recorder.wait_for(expected, DRAIN_TIMEOUT_S):
            raise RecordingError(f"recording {path}: only {recorder.stats.messages} of the run's {expected} "
                                 f"messages arrived within {DRAIN_TIMEOUT_S:.0f} s")
        recorder.journal = result.journal
    finally:
        stats = recorder.stop()
        if not keep_topics:
            admin.delete(list(topics.values()))
    log(f"recorded {stats.messages} messages of {scenario.name!r} into {path}")
    return ScenarioRecording(Path(path), result, stats, prefix)


def record_golden(store: GoldenStore, scenario: Any, broker: Any, *, name: str | None = None,
                  log: Callable[[str], None] = lambda _m: None) -> Path | None:
    """Run ``scenario``, record it, and commit it to ``store`` as the mode says (if the run was complete)."""
    plan = store.plan(name or scenario.name)
    if not plan.record:
        log(f"{plan.path}: kept (record mode {store.mode})")
        return None
    candidate = store.candidate_path(plan)
    try:
        run = record_scenario(scenario, broker, candidate, log=log)
    except BaseException:
        candidate.unlink(missing_ok=True)
        raise
    passed = run.result.complete
    if not passed:
        log(f"{scenario.name}: the run was not complete, no golden recording written: {run.result.all_problems()}")
    return store.commit(plan, candidate, passed=passed, namespace=run.namespace)


def compare_with_golden(store: GoldenStore, scenario: Any, broker: Any, *, name: str | None = None,
                        tolerance: Tolerance | None = None, workdir: str | Path | None = None,
                        log: Callable[[str], None] = lambda _m: None) -> Comparison:
    """Run ``scenario``, record it next to the golden recording and compare the two."""
    import tempfile

    plan = store.plan(name or scenario.name)
    if not plan.exists:
        raise RecordingError(f"golden recording {plan.path} does not exist; record it first (mode once)")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        run = record_scenario(scenario, broker, Path(tmp) / "run.h5", log=log)
        return compare_recordings(plan.path, run.path, tolerance=tolerance, namespace=run.namespace)
