"""Record modes, golden recording files and the comparison of a run with its golden recording."""

from __future__ import annotations

import argparse

import pytest
from recording_helpers import T0_MS, ev44, f144

from harness.checks.suite import golden_check
from harness.errors import CheckFailed, ConfigError, RecordingError
from harness.headers import make_headers
from harness.recording.golden.compare import Tolerance, compare_recordings
from harness.recording.golden.modes import RecordMode
from harness.recording.golden.store import GoldenStore
from harness.recording.reader.reader import open_recording
from harness.recording.writer.writer import RecordingWriter
from harness.records import KafkaRecord
from harness.runs.settings import SETTINGS
from harness.scenarios.goldens import packaged_goldens_dir

NS = "donki-test-1234"


def stream_records(topic, stream, count, *, t0_ms=T0_MS, period_ms=100, events=5, seed=0, received0=1000.0):
    out = []
    for i in range(count):
        ts = t0_ms + period_ms * i
        value = ev44("det", i, ts * 1_000_000, events, seed) if stream != "log" else f144("temp", float(i), ts * 10**6)
        out.append(KafkaRecord(topic, 0, i, ts, 1, None, value, tuple(make_headers(stream, i + 1, i, value)),
                               received0 + period_ms * i / 1000))
    return out


def write(path, *groups, metadata=None):
    with RecordingWriter(path, metadata=metadata) as writer:
        for group in groups:
            for record in group:
                writer.append(record)
    return path


# -- modes ------------------------------------------------------------------------------------


def test_one_enum_drives_the_choices():
    assert RecordMode.choices() == ("none", "once", "new", "all", "rewrite")
    assert SETTINGS["record_mode"].choices == RecordMode.choices()
    assert SETTINGS["record_mode"].default == "none" and SETTINGS["recordings"].default == "recordings"
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=RecordMode.choices())
    assert RecordMode.parse(parser.parse_args(["--mode", "new"]).mode) is RecordMode.NEW
    assert RecordMode.parse(None) is RecordMode.NONE
    with pytest.raises(ConfigError, match="record mode 'sometimes' is not valid; expected one of: none, once"):
        RecordMode.parse("sometimes")


def test_the_golden_setting_is_compare_or_off_from_option_environment_or_ini():
    from harness.runs.settings import read_settings

    spec = SETTINGS["golden"]
    assert (spec.option, spec.ini, spec.env) == ("--donki-golden", "donki_golden", "DONKI_GOLDEN")
    assert read_settings(environ={}).golden == "compare"
    assert read_settings(environ={"DONKI_GOLDEN": "off"}).golden == "off"
    assert read_settings(ini=lambda s: "off" if s.name == "golden" else None, environ={}).golden == "off"
    option = read_settings(option=lambda s: "compare" if s.name == "golden" else None,
                           environ={"DONKI_GOLDEN": "off"})
    assert option.golden == "compare"
    with pytest.raises(ConfigError, match="environment variable DONKI_GOLDEN: 'no' is not a valid value; "
                                          "expected one of: compare, off"):
        read_settings(environ={"DONKI_GOLDEN": "no"})


@pytest.mark.parametrize("mode, exists, compare, record", [
    ("none", True, True, False), ("once", False, False, True), ("once", True, True, False),
    ("new", False, False, True), ("new", True, True, True), ("all", True, False, True),
    ("all", False, False, True), ("rewrite", True, False, True), ("rewrite", False, False, True)])
def test_plans(tmp_path, mode, exists, compare, record):
    store = GoldenStore(tmp_path, mode)
    if exists:
        write(store.path_for("scenario/a"), stream_records("t", "s", 2))
    plan = store.plan("scenario/a")
    assert (plan.exists, plan.compare, plan.record) == (exists, compare, record)
    assert plan.path == tmp_path / "scenario-a.h5"


def test_a_missing_golden_in_mode_none_names_the_path_and_the_flag(tmp_path):
    with pytest.raises(RecordingError) as error:
        GoldenStore(tmp_path / "recordings").plan("my-scenario")
    message = str(error.value)
    assert str(tmp_path / "recordings" / "my-scenario.h5") in message
    assert f"(nor in {packaged_goldens_dir()})" in message
    assert "--donki-record-mode=once" in message


# -- the packaged fallback --------------------------------------------------------------------------


def test_a_builtin_without_a_project_golden_compares_with_the_packaged_one(tmp_path):
    plan = GoldenStore(tmp_path / "recordings").plan("e-mixed")
    assert plan.exists and plan.compare and not plan.record and plan.packaged
    assert plan.golden_path == packaged_goldens_dir() / "e-mixed.h5" and plan.golden_path.is_file()
    assert plan.path == tmp_path / "recordings" / "e-mixed.h5"
    with pytest.raises(RecordingError, match="does not exist and record mode is 'none'"):
        GoldenStore(tmp_path / "recordings", fallback=None).plan("e-mixed")


def test_the_projects_own_golden_wins_over_the_fallback(tmp_path):
    shipped = write(tmp_path / "shipped" / "a.h5", stream_records("t", "s", 2))
    own = write(tmp_path / "own" / "a.h5", stream_records("t", "s", 3))
    store = GoldenStore(tmp_path / "own", fallback=shipped.parent)
    plan = store.plan("a")
    assert not plan.packaged and plan.golden_path == own == plan.path
    assert store.fallback_for("a") is None and store.has("a") and not store.has("b")


@pytest.mark.parametrize("mode, streams", [("rewrite", {"s": 4, "log": 3}), ("new", {"s": 2, "log": 3}),
                                           ("all", {"s": 4})])
def test_a_writing_mode_writes_into_the_project_and_never_into_the_fallback(tmp_path, mode, streams):
    shipped = write(tmp_path / "shipped" / "a.h5", stream_records("t", "s", 2))
    before = shipped.read_bytes()
    store = GoldenStore(tmp_path / "own", mode, fallback=shipped.parent)
    plan = store.plan("a")
    assert plan.packaged and plan.golden_path == shipped
    groups = [stream_records(f"{NS}.t", "s", 4), stream_records(f"{NS}.u", "log", 3)]
    run = write(store.candidate_path(plan), *(groups[:1] if mode == "all" else groups))
    assert store.commit(plan, run, passed=True, namespace=NS) == tmp_path / "own" / "a.h5"
    with open_recording(plan.path) as golden:
        found = [r.donki.stream for r in golden.records()]
    assert {s: found.count(s) for s in set(found)} == streams
    assert shipped.read_bytes() == before and sorted(p.name for p in shipped.parent.iterdir()) == ["a.h5"]


def test_a_failed_test_never_writes_a_golden_recording(tmp_path):
    for mode in ("once", "new", "all", "rewrite"):
        store = GoldenStore(tmp_path / mode, mode)
        plan = store.plan("x")
        candidate = write(store.candidate_path(plan), stream_records(f"{NS}.t", "s", 3))
        assert store.commit(plan, candidate, passed=False) is None
        assert not plan.path.exists() and not candidate.exists()
        assert list(plan.path.parent.iterdir()) == []


def test_once_records_a_missing_golden_with_local_topic_names(tmp_path):
    store = GoldenStore(tmp_path, "once")
    plan = store.plan("a")
    candidate = write(store.candidate_path(plan), stream_records(f"{NS}.loki_detector", "s", 3),
                      metadata={"namespace": NS, "scenario_name": "a"})
    assert store.commit(plan, candidate, passed=True, namespace=NS) == plan.path
    with open_recording(plan.path) as golden:
        assert golden.topics == ["loki_detector"] and len(golden) == 3
        assert golden.metadata["golden"] and golden.metadata["scenario_name"] == "a"
        assert "namespace" not in golden.metadata
    assert [p.name for p in tmp_path.iterdir()] == ["a.h5"]


def test_once_and_none_never_touch_an_existing_golden(tmp_path):
    store = GoldenStore(tmp_path, "once")
    path = write(store.path_for("a"), stream_records("t", "s", 2))
    before = path.read_bytes()
    plan = store.plan("a")
    candidate = write(store.candidate_path(plan), stream_records("t", "s", 5))
    assert store.commit(plan, candidate, passed=True) is None
    assert path.read_bytes() == before


def test_new_adds_streams_the_golden_lacks(tmp_path):
    store = GoldenStore(tmp_path, "new")
    path = write(store.path_for("a"), stream_records("t", "s", 2))
    plan = store.plan("a")
    run = write(store.candidate_path(plan), stream_records(f"{NS}.t", "s", 9), stream_records(f"{NS}.u", "log", 4))
    assert store.commit(plan, run, passed=True, namespace=NS) == path
    with open_recording(path) as golden:
        streams = [r.donki.stream for r in golden.records()]
    assert streams.count("s") == 2 and streams.count("log") == 4  # old stream kept as it was


def test_all_re_records_streams_and_keeps_those_not_run(tmp_path):
    store = GoldenStore(tmp_path, "all")
    path = write(store.path_for("a"), stream_records("t", "s", 2), stream_records("u", "log", 3))
    plan = store.plan("a")
    run = write(store.candidate_path(plan), stream_records(f"{NS}.t", "s", 7))
    store.commit(plan, run, passed=True, namespace=NS)
    with open_recording(path) as golden:
        streams = [r.donki.stream for r in golden.records()]
    assert streams.count("s") == 7 and streams.count("log") == 3


def test_rewrite_replaces_the_golden(tmp_path):
    store = GoldenStore(tmp_path, "rewrite")
    path = write(store.path_for("a"), stream_records("t", "s", 2), stream_records("u", "log", 3))
    plan = store.plan("a")
    store.commit(plan, write(store.candidate_path(plan), stream_records(f"{NS}.t", "s", 4)), passed=True,
                 namespace=NS)
    with open_recording(path) as golden:
        assert [r.donki.stream for r in golden.records()] == ["s"] * 4


# -- comparison -----------------------------------------------------------------------------------


def test_a_rerun_with_other_times_matches(tmp_path):
    golden = write(tmp_path / "g.h5", stream_records("t", "ev", 12), stream_records("u", "log", 6))
    run = write(tmp_path / "r.h5", stream_records(f"{NS}.t", "ev", 12, t0_ms=T0_MS + 99_000, received0=5000),
                stream_records(f"{NS}.u", "log", 6, t0_ms=T0_MS + 99_000, received0=5000))
    result = compare_recordings(golden, run)
    assert result.ok, result.report()
    assert "matches golden recording" in result.report()
    exact = compare_recordings(golden, run, tolerance=Tolerance(payloads="exact"))
    assert not exact.ok and exact.first_difference.kind == "payload"
    assert exact.first_difference.detail.startswith("payload byte")


def test_the_report_names_the_first_differing_message(tmp_path):
    golden = write(tmp_path / "g.h5", stream_records("t", "ev", 10), stream_records("u", "log", 10))
    changed = stream_records("t", "ev", 10)
    changed[6] = stream_records("t", "ev", 10, seed=1)[6]  # other events in message 6
    changed[8] = stream_records("t", "ev", 10, seed=2)[8]
    run = write(tmp_path / "r.h5", changed, stream_records("u", "log", 10))
    result = compare_recordings(golden, run)
    first = result.first_difference
    assert (first.stream, first.index, first.kind) == ("ev", 6, "payload")
    assert first.detail.startswith("ev44.time_of_flight[0]:") and first.golden == "t[0]@6"
    report = result.report()
    assert "first difference: stream 'ev' seq 6 (message #6, trigger 7): payload: ev44.time_of_flight[0]: golden " \
           in report
    assert f"rerun the test with --donki-record-mode=rewrite; every difference: donki golden diff {golden} {run}" \
           in report
    assert "--donki-record-mode" not in result.report(accept=None)
    with pytest.raises(CheckFailed, match="message #6"):
        result.raise_if_different()


@pytest.mark.parametrize("mutate, kind, index", [
    (lambda rs: rs[:7], "count", 7),
    (lambda rs: rs[:3] + [rs[4], rs[3]] + rs[5:], "seq", 3),
    (lambda rs: [KafkaRecord(**{**r.__dict__, "key": b"k"}) if r.offset == 2 else r for r in rs], "key", 2),
])
def test_count_order_and_key_differences(tmp_path, mutate, kind, index):
    records = stream_records("t", "ev", 10)
    golden = write(tmp_path / "g.h5", records)
    run = write(tmp_path / "r.h5", [KafkaRecord(**{**r.__dict__, "offset": i}) for i, r in enumerate(mutate(records))])
    first = compare_recordings(golden, run).first_difference
    assert (first.kind, first.index) == (kind, index)


def test_missing_and_extra_streams(tmp_path):
    golden = write(tmp_path / "g.h5", stream_records("t", "ev", 3), stream_records("u", "log", 3))
    run = write(tmp_path / "r.h5", stream_records("t", "ev", 3), stream_records("v", "other", 2))
    kinds = {(d.stream, d.kind) for d in compare_recordings(golden, run).differences}
    assert kinds == {("log", "missing stream"), ("other", "extra stream")}


def test_rates_within_tolerance(tmp_path):
    golden = write(tmp_path / "g.h5", stream_records("t", "ev", 20, period_ms=100))
    close = write(tmp_path / "close.h5", stream_records("t", "ev", 20, period_ms=110))
    slow = write(tmp_path / "slow.h5", stream_records("t", "ev", 20, period_ms=150))
    assert compare_recordings(golden, close).ok
    (difference,) = compare_recordings(golden, slow).differences
    assert difference.kind == "rate" and "vs golden 10.00 Hz" in difference.detail
    assert compare_recordings(golden, slow, tolerance=Tolerance(rate=0.6)).ok


def test_foreign_streams_are_matched_by_local_topic(tmp_path):
    foreign = [KafkaRecord("motion", 0, i, T0_MS + i, 1, None, b"raw%d" % i) for i in range(4)]
    golden = write(tmp_path / "g.h5", foreign)
    run = write(tmp_path / "r.h5", [KafkaRecord(**{**r.__dict__, "topic": f"{NS}.motion"}) for r in foreign],
                metadata={"namespace": NS})
    assert compare_recordings(golden, run).ok
    bad = foreign[:2] + [KafkaRecord(**{**foreign[2].__dict__, "value": b"raX2"})] + foreign[3:]
    first = compare_recordings(golden, write(tmp_path / "b.h5", bad)).first_difference
    assert (first.stream, first.index, first.detail) == ("motion[0]", 2, "payload byte 2: golden 0x77, run 0x58")


def test_bad_tolerance():
    with pytest.raises(RecordingError, match="payload comparison 'fuzzy' is not valid"):
        Tolerance(payloads="fuzzy")


# -- recordings of different lengths: a trigger window ----------------------------------------------


def run_of(path, triggers, *, metadata=True, changed=None, job="job-1", t0_ms=T0_MS):
    """A recording like a run of ``triggers`` triggers: one ev44 per trigger, a run start on trigger 1
    and a run stop on the last; ``changed`` replaces the ev44 of that trigger with other events."""
    from streaming_data_types import serialise_6s4t, serialise_pl72

    events = stream_records("det", "ev", triggers, t0_ms=t0_ms)
    if changed is not None:
        events[changed - 1] = stream_records("det", "ev", triggers, t0_ms=t0_ms, seed=9)[changed - 1]
    start = serialise_pl72(job, "run.nxs", start_time=t0_ms)
    stop = serialise_6s4t(job, stop_time=t0_ms + 100 * triggers)
    control = [KafkaRecord("control", 0, 0, t0_ms, 1, None, start, tuple(make_headers("run", 1, 0, start)), 1000.0),
               KafkaRecord("control", 0, 1, t0_ms + 100 * triggers, 1, None, stop,
                           tuple(make_headers("run", triggers, 1, stop)), 1000.0 + triggers / 10)]
    return write(path, events, control, metadata={"triggers": triggers} if metadata else None)


def test_a_shorter_run_is_compared_with_the_golden_recordings_first_triggers(tmp_path):
    golden = run_of(tmp_path / "g.h5", 20)
    result = compare_recordings(golden, run_of(tmp_path / "r.h5", 5, t0_ms=T0_MS + 60_000))
    assert result.ok, result.report()
    assert (result.window.golden, result.window.run, result.window.compared) == (20, 5, 5)
    assert "compared the run's 5 triggers with triggers 1-5 of the golden recording's 20" in result.report()
    assert {s.stream: (s.golden_messages, s.run_messages) for s in result.streams} == {"ev": (5, 5), "run": (2, 2)}


def test_a_golden_recording_with_fewer_triggers_compares_those_and_says_so(tmp_path):
    golden = run_of(tmp_path / "g.h5", 5)
    result = compare_recordings(golden, run_of(tmp_path / "r.h5", 20))
    assert result.ok, result.report()
    assert "the golden recording holds 5 triggers: compared triggers 1-5 of 20" in result.report()
    check = golden_check(result)
    assert check.passed and "compared triggers 1-5 of 20" in check.report()


def test_a_window_still_finds_differences_and_lost_messages(tmp_path):
    golden = run_of(tmp_path / "g.h5", 20)
    first = compare_recordings(golden, run_of(tmp_path / "r.h5", 5, changed=3)).first_difference
    assert (first.stream, first.seq, first.trigger, first.kind) == ("ev", 2, 3, "payload")
    lost = write(tmp_path / "lost.h5", stream_records("det", "ev", 4), metadata={"triggers": 5})
    kinds = {(d.stream, d.kind) for d in compare_recordings(golden, lost).differences}
    assert kinds == {("ev", "count"), ("run", "missing stream")}  # the asked length decides, not what arrived
    other_job = compare_recordings(golden, run_of(tmp_path / "j.h5", 5, job="job-2")).first_difference
    assert (other_job.stream, other_job.kind) == ("run", "payload")


def test_without_trigger_counts_recordings_are_compared_whole(tmp_path):
    golden = run_of(tmp_path / "g.h5", 20, metadata=False)
    result = compare_recordings(golden, run_of(tmp_path / "r.h5", 5, metadata=False))
    assert result.window is None and {d.kind for d in result.differences} >= {"count"}
    assert compare_recordings(golden, run_of(tmp_path / "r2.h5", 5, metadata=False), triggers=5).window is None


def test_the_golden_check_shows_the_first_difference_and_how_to_accept_the_run(tmp_path):
    golden = write(tmp_path / "g.h5", stream_records("t", "ev", 10))
    changed = stream_records("t", "ev", 10)
    changed[6] = stream_records("t", "ev", 10, seed=1)[6]
    run = write(tmp_path / "r.h5", changed[:9])
    check = golden_check(compare_recordings(golden, run))
    report = check.report()
    lines = report.splitlines()
    assert lines[0] == "golden: 2 problem(s) in 1 checked"
    assert lines[1].startswith("  - first difference: stream 'ev' seq 6 (message #6, trigger 7): payload: "
                               "ev44.time_of_flight[0]: golden ")
    assert lines[2] == "  - stream 'ev' message #9: count: golden has 10 messages, run has 9"
    assert lines[3] == (f"  to accept the run as the new golden recording: rerun the test with "
                        f"--donki-record-mode=rewrite; every difference: donki golden diff {golden} {run}")
    assert len(lines) == 4 and check.to_dict()["note"] == lines[3].strip()
