import json

import pytest

from harness.reporting import SCHEMA, RunReport, StreamRow, read_report, render_run, render_table, write_report
from harness.reporting.series import out_of_band, percentiles, rate_series, rate_series_of


def report(ok=True):
    rows = [StreamRow("e-mixed", "e", 400, 2_500_000, 10, 9.9, 0.0021, "ok"),
            StreamRow("a-scalar", "a", 5, 400, 1, None, None, "1 message missing")]
    checks = {"rates": {"passed": ok, "findings": [] if ok else [{"message": "stream 'e-mixed': achieved 5 Hz"}]}}
    return RunReport("e-mixed", ok, rows, checks, {"e-mixed": [i / 10 for i in range(30)]}, {"e": [0.001, 0.002]})


def test_table_aligns_columns_and_shows_rate_against_nominal():
    lines = render_table(report().rows).splitlines()
    assert lines[0].split() == ["stream", "player", "messages", "MB", "rate", "Hz", "(nominal)", "ack", "p99", "ms",
                                "integrity"]
    assert "9.9 (10)" in lines[2] and "2.10" in lines[2] and lines[2].endswith("ok")
    assert "- (1)" in lines[3] and lines[3].endswith("1 message missing")
    assert set(lines[1]) <= {"─", " "}  # the rule under the header
    assert lines[2].index("400") + 3 == lines[3].index("5") + 1  # numbers right-aligned


def test_run_text_names_the_first_finding_of_a_failed_check():
    text = render_run(report(ok=False))
    assert text.splitlines()[0] == "donki scenario e-mixed: FAILED"
    assert "rates      1 problem(s): stream 'e-mixed': achieved 5 Hz" in text


def test_rate_series_uses_intervals_per_window():
    centres, rates = rate_series([0.0, 1.0, 2.0, 3.0])
    assert centres == [1.5, 2.5, 3.5] and rates == [1.0, 1.0, 1.0]
    assert rate_series([5.0]) == ([], [])
    _, fast = rate_series([i / 100 for i in range(201)])
    assert fast == pytest.approx([100.0, 100.0, 100.0])


def test_rate_series_of_a_short_run_has_several_points_on_a_common_clock():
    series = rate_series_of({"fast": [100 + i / 14 for i in range(8)], "late": [105.2 + i for i in range(4)],
                             "one": [100.0]})
    assert set(series) == {"fast", "late"}  # one trigger has no rate
    assert len(series["fast"]["t"]) >= 3 and series["fast"]["hz"] == pytest.approx([14.0] * len(series["fast"]["t"]))
    assert series["late"]["t"][0] > 5.0  # counted from the run's first trigger, not the stream's


def test_out_of_band_and_percentiles():
    assert out_of_band([10, 12.5, 7, 10], 10, 0.2) == [1, 2]
    assert percentiles(list(range(1, 101))) == [50, 99]


def test_report_directory_gets_json_figure_and_recording(tmp_path):
    recording = tmp_path / "pruned" / "e-mixed.h5"
    recording.parent.mkdir()
    recording.write_bytes(b"HDF5 stand-in")
    r = report()
    r.recording = str(recording)
    written = write_report(r, tmp_path / "out", label="e-mixed[1]")
    assert [p.name for p in written] == ["e-mixed-1.json", "e-mixed-1.png", "e-mixed-1.svg", "e-mixed-1.h5"]
    recording.unlink()  # pytest prunes its tmp directories; the report keeps its own link
    assert (tmp_path / "out" / "e-mixed-1.h5").read_bytes() == b"HDF5 stand-in"
    data = json.loads((tmp_path / "out" / "e-mixed-1.json").read_text())
    assert data["schema"] == SCHEMA and data["test_id"] == "e-mixed[1]" and data["recording"] == "e-mixed-1.h5"
    assert data["scenario"] == "e-mixed" and data["streams"][0]["messages"] == 400
    assert data["versions"]["pytest-donki"] and data["versions"]["python"] and data["reported"]
    assert data["series"]["ack_latency_s"] == {"e": [0.001, 0.002]}
    rates = data["series"]["rates"]["e-mixed"]
    assert rates["hz"] == pytest.approx([10.0] * len(rates["t"]))
    assert written[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and written[1].stat().st_size > 5000
    assert b"<svg" in written[2].read_bytes()[:500]


def test_report_json_round_trips(tmp_path):
    r = report(ok=False)
    r.test_id, r.started, r.broker = "t.py::test_x", "2026-11-29T16:00:00+00:00", {"bootstrap": "127.0.0.1:9092"}
    path = write_report(r, tmp_path, plots=False)[0]
    back = read_report(path)
    assert (back.test_id, back.started, back.broker, back.ok) == ("t.py::test_x", r.started, r.broker, False)
    assert back.rows == r.rows and back.checks == r.checks and back.ack_latencies_s == r.ack_latencies_s
    assert back.series() == r.series() and back.trigger_times == {}


def test_old_and_newer_reports(tmp_path):
    from harness.errors import ConfigError

    old = {"scenario": "a", "ok": True, "streams": [], "checks": {}, "recording": None, "golden": None}
    assert RunReport.from_dict(old).scenario == "a"
    with pytest.raises(ConfigError, match=r"report x: report schema 99 is newer than this pytest-donki reads"):
        RunReport.from_dict({**old, "schema": 99}, source="report x")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="bad.json: cannot read it as JSON"):
        read_report(tmp_path / "bad.json")


def test_a_report_directory_that_cannot_be_made_is_named(tmp_path):
    from harness.errors import ConfigError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match=f"report directory {blocker / 'out'}: cannot create it"):
        write_report(report(), blocker / "out")
