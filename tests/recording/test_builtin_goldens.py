"""The golden recordings of the built-in scenarios, packaged in ``harness/scenarios/goldens/``:
in step with the scenarios, found by a store whose own directory lacks them, matched by a
live run, and replayed byte for byte (record -> replay -> record)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks.config import ChecksConfig
from harness.filewriter.loop import file_writing_player
from harness.recording.golden.compare import Tolerance, compare_recordings
from harness.recording.golden.store import GoldenStore, stream_key
from harness.recording.reader.reader import open_recording
from harness.recording.replay.replayer import Replayer
from harness.recording.writer.recorder import Recorder
from harness.runs import GoldenRequest, RunRequest, SizedScenario, golden_variant, run, size_scenario
from harness.scenarios import builtin_names, load_scenario
from harness.scenarios.goldens import packaged_goldens_dir

RECORDINGS = packaged_goldens_dir()
REGENERATE = "regenerate with: donki golden record --all --packaged --mode rewrite"


def messages_by_partition(recording, rename=lambda topic: topic):
    return sorted(((rename(r.topic), r.partition, r.offset, r.value, r.key, r.headers, r.timestamp_ms)
                   for r in recording.records()), key=lambda m: m[:3])


def expected_streams(scenario):
    """The players' streams, and the file-writer double's answ on the job pool where the scenario has one."""
    writer = file_writing_player(scenario)
    return {p.name for p in scenario.players} | ({f"{writer.topic}[0]"} if writer else set())


def tolerance_for(scenario):
    """The double's answ carries the run's times: compared by schema, as the pipeline does."""
    writer = file_writing_player(scenario)
    return Tolerance(per_stream={f"{writer.topic}[0]": "schema"}) if writer else None


@pytest.mark.parametrize("name", builtin_names())
def test_the_golden_recording_matches_the_builtin_scenario(name, tmp_path):
    store = GoldenStore(tmp_path / "recordings")  # a project without goldens of its own
    plan = store.plan(name)  # mode none: a missing golden is an error naming the path and the flag
    assert plan.packaged and plan.golden_path == RECORDINGS / f"{name}.h5"
    assert plan.path == tmp_path / "recordings" / f"{name}.h5"  # where a writing mode would write
    with open_recording(plan.golden_path) as golden:
        assert golden.complete and golden.metadata["golden"]
        assert golden.scenario.data() == golden_variant(name).to_dict(), f"{plan.path} is stale; {REGENERATE}"
        assert golden.journal is not None and len(golden.journal) > 0
        streams = {stream_key(r) for r in golden.records()}
    assert streams == expected_streams(golden_variant(name)), f"{plan.golden_path}: a stream is missing"
    assert plan.golden_path.stat().st_size < 5 << 20, "golden recordings must stay small"


@pytest.mark.parametrize("name", builtin_names())
def test_live_run_matches_golden_and_replays_byte_identical(name, donki_kafka, donki_topics, tmp_path):
    scenario = golden_variant(name)
    live = run(RunRequest(SizedScenario.as_given(scenario), donki_kafka, workdir=tmp_path,
                          checks=ChecksConfig.only("golden")))
    assert live.summary.complete, live.summary.all_problems()
    comparison = compare_recordings(RECORDINGS / f"{name}.h5", live.recording, namespace=live.namespace,
                                    tolerance=tolerance_for(scenario))
    assert comparison.ok, comparison.report()

    # replay the live recording into fresh topics, record those: the same bytes come back
    with open_recording(live.recording) as recording:
        partitions = {}
        for topic, partition in recording.partitions():
            partitions[topic] = max(partitions.get(topic, 0), partition + 1)
    targets = {topic: donki_topics.create(topic.split(".", 1)[1], n) for topic, n in partitions.items()}
    recorder = Recorder(tmp_path / "again.h5", list(targets.values()), donki_kafka.client_config).start()
    try:
        report = Replayer(live.recording, donki_kafka.client_config, topic_map=targets, speed=None).run()
        with open_recording(live.recording) as recorded:
            assert report.failed == 0 and report.messages == len(recorded)
        assert recorder.wait_for(report.messages, timeout_s=60)
    finally:
        recorder.stop()
    back = {target: source for source, target in targets.items()}
    with open_recording(live.recording) as first, open_recording(tmp_path / "again.h5") as second:
        assert messages_by_partition(first) == messages_by_partition(second, back.__getitem__)


def test_every_builtin_golden_is_package_data():
    import tomllib

    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["harness"]
    shipped = {p.name for pattern in patterns for p in (root / "harness").glob(pattern)}
    assert {f"{name}.h5" for name in builtin_names()} <= shipped


@pytest.mark.parametrize("name", ["e-mixed", "ess-pulse"])
def test_a_longer_run_compares_its_first_triggers_with_the_packaged_golden(name, donki_kafka, tmp_path):
    store = GoldenStore(tmp_path / "recordings")  # a project without goldens of its own
    sized = size_scenario(load_scenario(name), 8, goldens=store)
    assert sized.golden_name == name
    outcome = run(RunRequest(sized, donki_kafka, workdir=tmp_path, golden=GoldenRequest(store, sized.golden_name),
                             checks=ChecksConfig.only("golden")))
    assert outcome.golden.path == RECORDINGS / f"{name}.h5"
    report = outcome.comparison.report()
    assert outcome.comparison.ok, report
    assert "the golden recording holds 5 triggers: compared triggers 1-5 of 8" in report
