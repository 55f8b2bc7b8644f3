"""The terminal summary says what happened: never FAILED for a test that passed, a line each under -q."""

from __future__ import annotations

LOSSY = '''
[scenario]
name = "lossy"
rate = 10.0
triggers = 4
[[players]]
name = "temperature"
stream = "a-scalar"
topic = "donki_env"
priority = 0
faults = { drop = [2] }
'''

TESTS = '''
import pytest

@pytest.mark.donki(scenario="lossy.toml", golden=False)
def test_the_loss_is_seen(donki_run):
    assert not donki_run.ok and "seq 2 missing" in donki_run.check("ordering").report()

@pytest.mark.donki(scenario="lossy.toml", golden=False)
def test_the_loss_fails(donki_run):
    donki_run.assert_ok()
'''


def run(pytester, donki_kafka, *args):
    pytester.makefile(".toml", lossy=LOSSY)
    pytester.makepyfile(test_lossy=TESTS)
    return pytester.runpytest_subprocess("--donki-kafka=external", f"--donki-bootstrap={donki_kafka.bootstrap_servers}",
                                         "-p", "no:cacheprovider", *args)


def test_a_test_that_expected_failed_checks_is_not_called_failed(pytester, donki_kafka):
    result = run(pytester, donki_kafka)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["test_lossy.py::test_the_loss_is_seen",
                                 "  donki scenario lossy: checks failed, as the test expected",
                                 "test_lossy.py::test_the_loss_fails",
                                 "  donki scenario lossy: FAILED"])


def test_quiet_prints_one_line_per_scenario_run(pytester, donki_kafka):
    result = run(pytester, donki_kafka, "-q")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "test_lossy.py::test_the_loss_is_seen: donki scenario lossy: checks failed, as the test expected; "
        "* messages, * of * checks ok (failed: *ordering*)",
        "test_lossy.py::test_the_loss_fails: donki scenario lossy: FAILED; *"])
    assert "rate Hz (nominal)" not in result.stdout.str()  # no table under -q
