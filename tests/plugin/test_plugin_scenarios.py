"""Scenario runs through the plugin: each way of configuring, record modes, xdist (pytester)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.scenarios.goldens import packaged_goldens_dir

ROOT = Path(__file__).resolve().parents[2]
GOLDENS = packaged_goldens_dir()

TINY = """
[scenario]
name = "tiny"
description = "two scalar streams at 10 Hz"
rate = 10.0
triggers = {triggers}

[[players]]
name = "temperature"
stream = "a-scalar"
topic = "tiny_sample_env"
priority = 0

[[players]]
name = "pressure"
stream = "a-scalar"
topic = "tiny_sample_env"
priority = 1
{extra}
"""


def tiny(triggers: int = 4, extra: str = "") -> str:
    return TINY.format(triggers=triggers, extra=extra)


@pytest.fixture()
def kafka_args(donki_kafka):
    return ["--donki-kafka=external", f"--donki-bootstrap={donki_kafka.bootstrap_servers}", "-p", "no:cacheprovider"]


def test_command_line_runs_each_named_scenario_as_a_test_with_a_summary(pytester, kafka_args):
    # a project without recordings/ of its own: the built-ins compare with their packaged goldens
    result = pytester.runpytest_subprocess(*kafka_args, "--donki-scenario=e-mixed,a-scalar")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "donki-scenarios::test_scenario[[]e-mixed[]]",
        "*donki scenario e-mixed: passed*",
        "*e-mixed*e-mixed*20*",
        "*golden recording compared: *harness/scenarios/goldens/e-mixed.h5*",
        "*donki scenario a-scalar: passed*",
    ])


def test_ini_key_names_the_scenario_and_the_recordings(pytester, kafka_args):
    pytester.makeini(f"[pytest]\ndonki_scenario = e-mixed\ndonki_recordings = {GOLDENS}\n")
    pytester.runpytest_subprocess(*kafka_args).assert_outcomes(passed=1)


def test_scenario_runs_beside_the_tests_named_on_the_command_line(pytester, kafka_args):
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess(*kafka_args, f"--donki-recordings={GOLDENS}", "--donki-scenario=a-scalar",
                                           "test_plain.py")
    result.assert_outcomes(passed=2)


def test_marker_runs_the_scenario_for_donki_run(pytester, kafka_args):
    pytester.makefile(".toml", tiny=tiny())
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.donki(scenario="tiny.toml", golden=False)
        def test_tiny(donki_run):
            assert donki_run.scenario.name == "tiny"
            assert set(donki_run.checks) == {"run", "acks", "levels", "ordering", "integrity", "views", "rates"}
            assert donki_run.ok, donki_run.failure_report()
            assert donki_run.recording.exists()
            assert {s.player: s.messages for s in donki_run.summary.streams} == {"temperature": 4, "pressure": 4}
        """
    )
    pytester.runpytest_subprocess(*kafka_args).assert_outcomes(passed=1)


def test_marker_length_and_runner_factory_in_a_conftest(pytester, kafka_args):
    pytester.makefile(".toml", tiny=tiny(triggers=100))
    pytester.makeconftest(
        "from pytest_donki import runner_fixture\n"
        "my_runner = runner_fixture('donki_kafka')\n"
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.donki(scenario="tiny.toml", golden=False, length="4")
        def test_two_runs(my_runner):
            first = my_runner()
            second = my_runner(length="ci")
            assert first.scenario.triggers == 4 and first.ok, first.failure_report()
            assert second.scenario.triggers == 100 and second.ok, second.failure_report()
            assert first.topics != second.topics
        """
    )
    pytester.runpytest_subprocess(*kafka_args).assert_outcomes(passed=1)


def test_a_test_without_a_scenario_gets_a_clear_error(pytester, kafka_args):
    pytester.makepyfile("def test_x(donki_run):\n    pass\n")
    result = pytester.runpytest_subprocess(*kafka_args)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*names none: mark it with @pytest.mark.donki(scenario='e-mixed')*"])


def test_unknown_marker_keywords_are_named(pytester, kafka_args):
    pytester.makepyfile(
        "import pytest\n@pytest.mark.donki(scenario='e-mixed', golen=False)\ndef test_x(donki_run):\n    pass\n")
    result = pytester.runpytest_subprocess(*kafka_args)
    result.stdout.fnmatch_lines(
        ["*unknown keyword(s) ?'golen'?; allowed: scenario, record_mode, length, golden, mode*"])


def test_record_once_writes_the_golden_then_none_compares_with_it(pytester, kafka_args):
    pytester.makefile(".toml", tiny=tiny())
    args = [*kafka_args, "--donki-scenario=tiny.toml", "--donki-recordings=goldens"]
    first = pytester.runpytest_subprocess(*args, "--donki-record-mode=once")
    first.assert_outcomes(passed=1)
    golden = pytester.path / "goldens" / "tiny.h5"
    first.stdout.fnmatch_lines([f"donki: wrote golden recording {golden}"])
    assert golden.exists()
    again = pytester.runpytest_subprocess(*args)
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines([f"*golden recording compared: {golden}*"])


def test_mode_none_without_a_golden_names_the_path_and_the_flag(pytester, kafka_args):
    pytester.makefile(".toml", tiny=tiny())
    result = pytester.runpytest_subprocess(*kafka_args, "--donki-scenario=tiny.toml", "--donki-recordings=goldens")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*golden recording {pytester.path / 'goldens' / 'tiny.h5'} does not exist*"
                                 "--donki-record-mode=once*"])


def test_a_failed_test_never_writes_a_golden_recording(pytester, kafka_args):
    pytester.makefile(".toml", tiny=tiny())
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.donki(scenario="tiny.toml", record_mode="once")
        def test_fails(donki_run):
            assert donki_run.ok
            assert False, "the consumer under test misbehaved"
        """
    )
    result = pytester.runpytest_subprocess(*kafka_args, "--donki-recordings=goldens")
    result.assert_outcomes(failed=1)
    assert not (pytester.path / "goldens" / "tiny.h5").exists()
    assert not list((pytester.path / "goldens").glob("*"))  # no candidate left behind either


def test_xdist_workers_run_scenarios_apart_and_the_summary_collects_both(pytester, kafka_args):
    result = pytester.runpytest_subprocess(*kafka_args, f"--donki-recordings={GOLDENS}", "-n", "2",
                                           "--donki-scenario=e-mixed,a-scalar")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*donki scenario*passed*", "*donki scenario*passed*"])


def test_report_directory_gets_json_and_plots(pytester, kafka_args):
    result = pytester.runpytest_subprocess(*kafka_args, f"--donki-recordings={GOLDENS}", "--donki-scenario=e-mixed",
                                           "--donki-report=out")
    result.assert_outcomes(passed=1)
    names = sorted(p.name for p in (pytester.path / "out").iterdir())
    assert len(names) == 3 and names[0].endswith("-ack-latency.png") and names[2].endswith(".json")
    result.stdout.fnmatch_lines(["*report     *out/*rates.png"])


def test_report_header_names_provider_and_record_mode(pytester, kafka_args):
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess(*kafka_args, "--donki-record-mode=once")
    result.stdout.fnmatch_lines(["donki: kafka provider external (external), bootstrap *; record mode once"])


def test_a_configuration_error_is_shown_as_its_message_not_a_traceback(pytester, kafka_args):
    result = pytester.runpytest_subprocess(*kafka_args, "--donki-scenario=no-such-scenario")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["harness.errors.ScenarioError: no scenario 'no-such-scenario': it is neither a file "
                                 "nor a built-in scenario; built-ins: a-scalar, all-streams, *"])
    assert "raise ScenarioError" not in result.stdout.str()
    verbose = pytester.runpytest_subprocess(*kafka_args, "--donki-scenario=no-such-scenario", "--tb=long")
    assert "raise ScenarioError" in verbose.stdout.str()


def test_recorder_fixture_records_what_a_test_produces(pytester, kafka_args):
    pytester.makepyfile(
        """
        from harness.kafka import make_producer
        from harness.recording import Recording

        def test_record(donki_kafka, donki_topics, donki_recorder):
            topic = donki_topics.create("odin_camera")
            recorder = donki_recorder(topic)
            producer = make_producer(donki_kafka.client_config)
            for i in range(5):
                producer.produce(topic, f"frame {i}".encode(), key=b"cam", headers=[("n", str(i).encode())])
            assert producer.flush(30) == 0
            assert recorder.wait_for(5, timeout_s=30)
            stats = recorder.stop()
            assert stats.messages == 5
            with Recording(recorder.path) as recording:
                records = list(recording.records())
            assert [r.value for r in records] == [f"frame {i}".encode() for i in range(5)]
            assert records[4].headers == (("n", b"4"),) and records[0].key == b"cam"

        def test_scenario_fixture_alone(donki_scenario):
            pass
        """
    )
    result = pytester.runpytest_subprocess(*kafka_args)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*test_scenario_fixture_alone*names none*"])
