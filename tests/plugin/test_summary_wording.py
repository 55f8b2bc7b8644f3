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


def test_checks_per_test_turn_a_check_off_and_bad_ones_are_named(pytester, donki_kafka):
    pytester.makefile(".toml", lossy=LOSSY)
    pytester.makepyfile(test_checks='''
        import pytest

        @pytest.mark.donki(scenario="lossy.toml", golden=False, checks={"ordering": False, "integrity": False,
                                                                        "acks": False, "run": False})
        def test_without_the_checks_that_see_the_loss(donki_run):
            donki_run.assert_ok()
            assert "ordering" not in donki_run.checks and "rates" in donki_run.checks

        @pytest.mark.donki(scenario="lossy.toml", golden=False, checks={"rates": {"tolerance": 2}})
        def test_bad(donki_run):
            pass
    ''')
    bootstrap = f"--donki-bootstrap={donki_kafka.bootstrap_servers}"
    result = pytester.runpytest_subprocess("--donki-kafka=external", bootstrap, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*test_bad*checks=*rates.tolerance=2: expected a number in (0, 1]*"])
