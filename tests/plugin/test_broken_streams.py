"""A deliberately broken stream fails its test with a message naming the stream and the first bad message."""

from __future__ import annotations

import shutil

import h5py
import pytest

from harness.checks.suite import run_checks
from harness.recording import Recording
from harness.runs import RunRequest, SizedScenario, run
from harness.scenarios import loads_scenario

BROKEN = """
[scenario]
name = "broken"
rate = {rate}
triggers = {triggers}

[scenario.ack]
policy = "skip"
timeout = {timeout}

[[players]]
name = "detector"
stream = "d-array3d"
topic = "broken_volume"
priority = 0

[players.params]
shape = [4, 4, 4]
per_trigger = {per_trigger}

[players.faults]
{faults}
"""

CASES = {
    "dropped": ("drop = [3]", 1, 8, 5.0, ["*ordering: * problem(s)*",
                                           "*stream 'detector': seq 3 missing (after seq 2 at topic *offset 2, "
                                           "before seq 4 at topic *offset 3)*",
                                           "*integrity: 1 problem(s)*",
                                           "*player 'detector' trigger 4: reported 1 message(s) / * bytes on "
                                           "'detector', the recording has 0 / 0*"]),
    "reordered": ("swap = [2]", 2, 8, 5.0, ["*stream 'detector': seq 2 at topic * offset 3 comes after seq 3 at "
                                             "offset 2 (reordered)*"]),
    "corrupted": ("corrupt = [4]", 1, 8, 5.0, ["*integrity: 1 problem(s)*",
                                                "*stream 'detector' seq 4 (trigger 5) at topic * offset 4: payload of "
                                                "* bytes has crc32 *, its producer's header says *"]),
    "missing ack": ("stall_trigger = 3\nstall_s = 2.5", 1, 6, 1.0,
                    ["*acks: * problem(s)*", "*player 'detector' did not ack trigger 3 (journaled as missed)*"]),
    "rate off by half": ("delay_s = 0.2", 1, 8, 5.0,
                         ["*rates: 1 problem(s)*", "*stream 'detector': achieved [34].* Hz (robust slope), nominal "
                          "10 Hz (-[56]*%, tolerance +-20%)*"]),
}


def broken(faults: str, per_trigger: int = 1, triggers: int = 8, timeout: float = 5.0) -> str:
    text = BROKEN.format(rate=10, triggers=triggers, timeout=timeout, faults=faults, per_trigger=per_trigger)
    return text if faults else text.replace("[players.faults]", "")


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_stream_fails_naming_the_stream_and_the_first_bad_message(case, pytester, donki_kafka):
    faults, per_trigger, triggers, timeout, expected = CASES[case]
    pytester.makefile(".toml", broken=broken(faults, per_trigger, triggers, timeout))
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.donki(scenario="broken.toml", golden=False, length="full")
        def test_stream(donki_run):
            donki_run.assert_ok()
        """
    )
    result = pytester.runpytest_subprocess("--donki-kafka=external",
                                           f"--donki-bootstrap={donki_kafka.bootstrap_servers}",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CheckFailed: scenario 'broken': * checks failed*", *expected])


def test_the_same_scenario_without_faults_passes(pytester, donki_kafka):
    pytester.makefile(".toml", healthy=broken(""))
    pytester.makepyfile(
        "import pytest\n@pytest.mark.donki(scenario='healthy.toml', golden=False, length='full')\n"
        "def test_stream(donki_run):\n    donki_run.assert_ok()\n")
    pytester.runpytest_subprocess("--donki-kafka=external", f"--donki-bootstrap={donki_kafka.bootstrap_servers}",
                                  "-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_broken_stream_against_its_golden_recording_names_the_first_difference(pytester, donki_kafka):
    pytester.makefile(".toml", scenario=broken("", triggers=5))
    args = ["--donki-kafka=external", f"--donki-bootstrap={donki_kafka.bootstrap_servers}", "-p", "no:cacheprovider",
            "--donki-scenario=scenario.toml", "--donki-recordings=goldens"]
    pytester.runpytest_subprocess(*args, "--donki-record-mode=once").assert_outcomes(passed=1)
    pytester.makefile(".toml", scenario=broken("drop = [2]", triggers=5))
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*golden: *",
                                 "*first difference: stream 'detector' seq 2 (message #2, trigger 3): seq: golden 2, "
                                 "run 3*",
                                 "*to accept the run as the new golden recording: rerun the test with "
                                 "--donki-record-mode=rewrite; every difference: "
                                 "donki golden diff *goldens/broken.h5 *"])
    assert "Scenario(name=" not in result.stdout.str()  # a failing test's arguments print short


def test_a_corrupted_byte_in_the_recording_is_found(donki_kafka, tmp_path):
    scenario = loads_scenario(broken("", triggers=4), "healthy.toml")
    outcome = run(RunRequest(SizedScenario.as_given(scenario), donki_kafka, workdir=tmp_path))
    assert outcome.ok, outcome.failure_report()
    damaged = tmp_path / "damaged.h5"
    shutil.copyfile(outcome.recording, damaged)
    with Recording(damaged) as recording:
        third = recording.index[2]
        start = int(third["payload_start"]) + int(third["payload_length"]) // 2
    with h5py.File(damaged, "r+") as h5:
        h5["raw/payload"][start] ^= 0x40  # one bit of one byte of message #2
    with Recording(damaged) as recording:
        checks = run_checks(scenario, outcome.summary.journal, recording)
    integrity = checks["integrity"]
    assert not integrity.passed and len(integrity.findings) == 1
    message = integrity.findings[0].message
    assert message.startswith("stream 'detector' seq 2 (trigger 3) at topic ") and "offset 2: payload of" in message
    assert "the saved bytes differ from the produced ones" in message
    assert checks["ordering"].passed and checks["acks"].passed  # it is the bytes, not the order
