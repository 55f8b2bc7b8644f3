"""A project's own module named ``harness`` never breaks pytest start-up (issue: the plugin loads in every run)."""

from __future__ import annotations

import pytest

from harness.runs.settings import SETTINGS
from pytest_donki.options import OPTIONS

OWN_HARNESS = "def helper():\n    return 42\n"
TESTS = ("import harness\n\n"
         "def test_mine():\n    assert harness.helper() == 42\n\n"
         "def test_uses_donki(donki_kafka):\n    pass\n")


def test_the_plugin_options_mirror_the_engine_settings():
    assert [(o.name, o.help, o.choices) for o in OPTIONS] == [(s.name, s.help, s.choices) for s in SETTINGS.values()]
    pairs = zip(OPTIONS, SETTINGS.values(), strict=True)
    assert all(o.option == s.option and o.env == s.env and o.dest == s.ini for o, s in pairs)


@pytest.mark.parametrize("layout", ["module in the rootdir", "package in tests/"])
def test_a_project_harness_runs_its_tests_and_a_donki_fixture_names_the_clash(pytester, layout):
    if layout == "module in the rootdir":
        pytester.makepyfile(harness=OWN_HARNESS, test_project=TESTS)
        shadow = "harness.py"
    else:
        tests = pytester.mkdir("tests")
        (tests / "harness").mkdir()
        (tests / "harness" / "__init__.py").write_text(OWN_HARNESS)
        (tests / "test_project.py").write_text(TESTS)
        shadow = "harness/__init__.py"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"*pytest-donki: */{shadow} shadows pytest-donki's engine package 'harness'"
                                 f"*rename your module*"])
    assert "Traceback" not in result.stdout.str() and "ModuleNotFoundError" not in result.stdout.str()


def test_donki_settings_in_the_environment_do_not_stop_a_project_with_its_own_harness(pytester, monkeypatch):
    # a CI machine may export DONKI_* for every project; one with its own harness still runs its tests
    monkeypatch.setenv("DONKI_KAFKA", "local")
    pytester.makepyfile(harness=OWN_HARNESS, test_project=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--donki-length=3")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*harness.py shadows pytest-donki's engine package 'harness'*"])
