import json

import pytest

from harness.reporting import RunReport, StreamRow, render_run, render_table, write_report
from harness.reporting.plots import rate_series


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
    assert all(len(line) <= len(lines[1]) for line in lines)  # the rule spans every column


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


def test_report_directory_gets_json_and_two_pngs(tmp_path):
    written = write_report(report(), tmp_path / "out", label="e-mixed[1]")
    names = sorted(p.name for p in written)
    assert names == ["e-mixed-1-ack-latency.png", "e-mixed-1-rates.png", "e-mixed-1.json"]
    data = json.loads((tmp_path / "out" / "e-mixed-1.json").read_text())
    assert data["scenario"] == "e-mixed" and data["streams"][0]["messages"] == 400
    for png in written[1:]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_a_report_directory_that_cannot_be_made_is_named(tmp_path):
    from harness.errors import ConfigError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match=f"report directory {blocker / 'out'}: cannot create it"):
        write_report(report(), blocker / "out")
