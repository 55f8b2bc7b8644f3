"""CLI messages that need no broker, through a pipe and a real terminal: each is one line with the fix."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from harness.reporting import RunReport, StreamRow, write_report
from harness.scenarios import load_scenario
from tests.cli.terminal import in_pipe, in_terminal

RUNNERS = pytest.mark.parametrize("run", [in_pipe, in_terminal], ids=["pipe", "terminal"])


def error_lines(done) -> list[str]:
    text = done.err if done.err else done.out
    return [line for line in text.splitlines() if "error:" in line]


@RUNNERS
def test_a_misspelt_option_gets_the_subcommand_usage_and_a_suggestion(run):
    done = run("run", "e-mixed", "--duraton", "3")
    assert done.returncode == 2
    assert error_lines(done) == [("donki run: error: unrecognized arguments: --duraton 3; --duraton: did you mean "
                                 "--duration?")]
    assert "usage: donki run" in (done.err or done.out) and "Traceback" not in done.raw + done.err


@RUNNERS
def test_a_misspelt_command_and_choice_are_suggested(run):
    assert "did you mean 'run'?" in error_lines(run("rnu"))[0]
    done = run("kafka", "statsu")
    assert done.returncode == 2 and "did you mean 'status'?" in error_lines(done)[0]
    assert "did you mean 'local'?" in error_lines(run("run", "e-mixed", "--kafka", "lcal"))[0]


@RUNNERS
def test_a_misspelt_scenario_name_is_one_line_with_a_suggestion(run):
    done = run("run", "e-mixd", "--kafka", "local")
    assert done.returncode == 2
    assert error_lines(done) == [
        ("donki run: error: no scenario 'e-mixd': it is neither a file nor a built-in scenario; did you mean "
        "'e-mixed'? built-ins: a-scalar, all-streams, b-image, c-spectrum, d-array3d, e-mixed, ess-instrument, "
         "ess-pulse, file-writing")]


def test_a_closed_pipe_ends_quietly():
    done = subprocess.run(f"{sys.executable} -m harness scenarios --kinds | head -1", check=False, shell=True,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.count("\n") == 1 and done.stdout.strip()
    assert done.stderr == ""  # no BrokenPipeError traceback


SCENARIO = """
[scenario]
name = "short"
rate = 10.0
duration = {duration}

[[players]]
name = "a"
stream = "a-scalar"
topic = "t_a"
"""


def test_toml_takes_the_duration_syntax_of_the_command_line(tmp_path):
    for text, triggers in (('"3s"', 30), ('"500ms"', 5), ("2", 20), ('"1m"', 600)):
        (tmp_path / "s.toml").write_text(SCENARIO.format(duration=text))
        assert load_scenario(tmp_path / "s.toml").triggers == triggers
    (tmp_path / "s.toml").write_text(SCENARIO.format(duration='"3 parsecs"'))
    done = in_pipe("run", str(tmp_path / "s.toml"), "--kafka", "local")
    assert done.returncode == 2
    assert error_lines(done) == [(f"donki run: error: {tmp_path / 's.toml'}: scenario.duration '3 parsecs': expected "
                                 "a duration (e.g. 3, 2.5, 3s, 500ms, 2m or 1m30s)")]


@RUNNERS
def test_a_bad_duration_option_is_a_usage_error(run):
    done = run("run", "e-mixed", "--duration", "2x")
    assert done.returncode == 2
    assert error_lines(done) == [("donki run: error: argument --duration: '2x': expected a duration "
                                 "(e.g. 3, 2.5, 3s, 500ms, 2m or 1m30s)")]


CAPTURED = """
[scenario]
name = "cap"
rate = 5.0
triggers = 3

[[players]]
name = "replay"
stream = "captured"
topic = "t_cap"

[players.params]
recording = "data/x.h5"
"""


def test_scenario_file_paths_are_relative_to_the_file_and_checked_before_anything_starts(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    toml = folder / "cap.toml"
    toml.write_text(CAPTURED)
    started = time.monotonic()
    done = in_pipe("run", str(toml), "--kafka", "local")  # a local broker would take many seconds to start
    assert time.monotonic() - started < 10
    assert done.returncode == 2 and "Traceback" not in done.err
    assert error_lines(done) == [(f"donki run: error: {toml}: players[0].params.recording = 'data/x.h5': no such file "
                                 f"{folder / 'data' / 'x.h5'} (paths in a scenario file are relative to the file)")]
    (folder / "data").mkdir()
    (folder / "data" / "x.h5").write_bytes(b"")
    assert load_scenario(toml).players[0].params["recording"] == str(folder / "data" / "x.h5")


def _report(ok: bool) -> RunReport:
    rows = [StreamRow("e-mixed", "e-mixed", 40, 130_000, 10, 10.0 if ok else 6.0, 0.002, "ok")]
    findings = [] if ok else [{"message": "stream 'e-mixed': achieved 6 Hz", "stream": "e-mixed"}]
    checks = {"acks": {"passed": True, "findings": []},
              "rates": {"passed": ok, "findings": findings,
                        "metrics": {"e-mixed": {"nominal_hz": 10, "achieved_hz": 10.0 if ok else 6.0,
                                                "tolerance": 0.2}}}}
    times = [i / (10 if ok else 6) for i in range(40)]
    return RunReport("e-mixed", ok, rows, checks, {"e-mixed": times}, {"e-mixed": [0.002] * 40},
                     test_id="tests/test_x.py::test_e_mixed")


def test_report_renders_the_figures_again_from_the_json(tmp_path):
    write_report(_report(True), tmp_path / "a", plots=False)
    done = in_pipe("report", str(tmp_path / "a"))
    assert done.returncode == 0, done.err
    written = sorted(p.rsplit("/", 1)[1] for p in done.out.split())
    assert written == ["tests-test_x.py-test_e_mixed.png", "tests-test_x.py-test_e_mixed.svg"]
    assert (tmp_path / "a" / written[0]).read_bytes()[:4] == b"\x89PNG"


@RUNNERS
def test_report_compare_names_the_check_that_changed(tmp_path, run):
    write_report(_report(True), tmp_path / "a", plots=False)
    write_report(_report(False), tmp_path / "b", plots=False)
    done = run("report", "--compare", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "cmp"))
    assert done.returncode == 1
    rates = next(line for line in done.out.splitlines() if "check rates" in line)
    assert rates.split() == ["check", "rates", "passed", "FAILED", "CHANGED"]
    acks = next(line for line in done.out.splitlines() if "check acks" in line)
    assert acks.split() == ["check", "acks", "passed", "passed"]
    assert "e-mixed rate Hz" in done.out and "-40.0%" in done.out
    assert "checks changed: rates passed -> FAILED" in " ".join(done.out.split())
    assert (tmp_path / "cmp" / "compare-tests-test_x.py-test_e_mixed.png").stat().st_size > 10_000


@RUNNERS
def test_report_of_a_directory_without_reports_is_one_line(tmp_path, run):
    done = run("report", str(tmp_path))
    assert done.returncode == 2
    assert error_lines(done) == [(f"donki report: error: report directory {tmp_path}: no run report (*.json) in it; "
                                 "write one with pytest --donki-report DIR")]


def test_ci_overrides_of_file_parameters_are_relative_to_the_file_too(tmp_path):
    from harness.errors import ScenarioError

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.h5").write_bytes(b"")
    toml = tmp_path / "cap.toml"
    toml.write_text(CAPTURED + '\n[scenario.ci.params.replay]\nrecording = "data/ci.h5"\n')
    with pytest.raises(ScenarioError, match=r"scenario\.ci\.params\.replay\.recording = 'data/ci\.h5': no such file"):
        load_scenario(toml)
    (tmp_path / "data" / "ci.h5").write_bytes(b"")
    assert load_scenario(toml).ci().players[0].params["recording"] == str(tmp_path / "data" / "ci.h5")
