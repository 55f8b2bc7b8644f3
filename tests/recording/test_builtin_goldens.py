"""The golden recordings of the built-in scenarios in ``recordings/``: in step with the
scenarios, matched by a live run, and replayed byte for byte (record -> replay -> record)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.recording.golden.compare import compare_recordings
from harness.recording.golden.store import GoldenStore, stream_key
from harness.recording.reader.reader import open_recording
from harness.recording.writer.recorder import Recorder
from harness.recording.replay.replayer import Replayer
from harness.runs import RunRequest, SizedScenario, golden_variant, run
from harness.scenarios import builtin_names

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"
REGENERATE = "regenerate with: donki golden record --all --mode rewrite"


def messages_by_partition(recording, rename=lambda topic: topic):
    return sorted(((rename(r.topic), r.partition, r.offset, r.value, r.key, r.headers, r.timestamp_ms)
                   for r in recording.records()), key=lambda m: m[:3])


@pytest.mark.parametrize("name", builtin_names())
def test_the_golden_recording_matches_the_builtin_scenario(name):
    store = GoldenStore(RECORDINGS)
    plan = store.plan(name)  # mode none: a missing golden is an error naming the path and the flag
    with open_recording(plan.path) as golden:
        assert golden.complete and golden.metadata["golden"]
        assert golden.scenario.data() == golden_variant(name).to_dict(), f"{plan.path} is stale; {REGENERATE}"
        assert golden.journal is not None and len(golden.journal) > 0
        streams = {stream_key(r) for r in golden.records()}
    assert streams == {p.name for p in golden_variant(name).players}, f"{plan.path}: a stream is missing"
    assert plan.path.stat().st_size < 5 << 20, "golden recordings must stay small"


@pytest.mark.parametrize("name", builtin_names())
def test_live_run_matches_golden_and_replays_byte_identical(name, donki_kafka, donki_topics, tmp_path):
    scenario = golden_variant(name)
    live = run(RunRequest(SizedScenario.as_given(scenario), donki_kafka, workdir=tmp_path, checks=False))
    assert live.summary.complete, live.summary.all_problems()
    comparison = compare_recordings(RECORDINGS / f"{name}.h5", live.recording, namespace=live.namespace)
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
        assert report.failed == 0 and report.messages == sum(s.messages for s in live.summary.streams)
        assert recorder.wait_for(report.messages, timeout_s=60)
    finally:
        recorder.stop()
    back = {target: source for source, target in targets.items()}
    with open_recording(live.recording) as first, open_recording(tmp_path / "again.h5") as second:
        assert messages_by_partition(first) == messages_by_partition(second, back.__getitem__)
