"""The built-in file-writing scenario with the double in the loop: every check passes, and the file
holds exactly the run's events and log values, in a layout scippnexus-style readers understand."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from harness.checks.filewriter import check_file_writer
from harness.recording.reader.reader import open_recording
from harness.runs import RunRequest, SizedScenario
from harness.runs import run as run_pipeline
from harness.scenarios import builtin_scenarios


def test_file_writing_scenario_with_the_double_in_the_loop(donki_kafka, tmp_path):
    scenario = builtin_scenarios()["file-writing"].ci()
    # the pipeline puts the double in the loop for a scenario meant for a file writer
    run = run_pipeline(RunRequest(SizedScenario.as_given(scenario), donki_kafka, workdir=tmp_path / "run",
                                  mode="thread"))
    [written] = run.written
    assert written.error is None and written.path.name == "file-writing.nxs"
    failed = [c.report() for c in run.checks.values() if not c.passed]
    assert not failed, "\n".join(failed)
    assert run.checks["run-window"].checked > 0 and run.checks["file-writer"].checked > 0

    with open_recording(run.recording) as recording:
        result = check_file_writer(list(recording.records()), written.path)
    assert result.passed, result.report()
    assert result.metrics["entries"]["ev44:donki_detector"] == scenario.triggers
    assert result.metrics["entries"]["f144:sample_env:temperature"] >= scenario.triggers // 7

    with h5py.File(written.path, "r") as f:  # the NeXus rules scippnexus relies on
        detector = f["entry/instrument/detector"]
        assert detector.attrs["NX_class"] == "NXdetector"
        assert detector["detector_number"].shape == (8, 8) and detector["detector_number"][0, 0] == 1
        events = detector["events"]
        assert events.attrs["NX_class"] == "NXevent_data"
        assert events["event_time_zero"].attrs["units"] == "ns" and "start" in events["event_time_zero"].attrs
        ids = events["event_id"][()]
        assert ids.min() >= 1 and ids.max() <= 64  # every event on a pixel of detector_number
        log = f["entry/instrument/temperature"]
        assert log.attrs["NX_class"] == "NXlog" and log["value"].attrs["units"] == "K"
        assert np.all(np.diff(log["time"][()].astype(np.int64)) > 0)
        total_events, values = len(ids), log["value"][()]
    _load_with_scippnexus(written.path, total_events, values)


def _load_with_scippnexus(path, total_events, values):
    snx = pytest.importorskip("scippnexus")
    with snx.File(path) as f:
        detector = f["entry/instrument/detector"][()]
        temperature = f["entry/instrument/temperature"][()]
    events = detector["events"]
    assert events.sizes == {"dim_0": 8, "dim_1": 8}, events  # grouped by detector_number
    assert events.bins.size().sum().value == total_events  # grouped by pixel, none lost
    assert str(temperature.unit) == "K" and np.array_equal(temperature.values, values)
