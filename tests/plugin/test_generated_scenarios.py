"""Hypothesis-generated scenarios run end to end and pass every data check."""

from __future__ import annotations

from hypothesis import given, settings

from harness.runs import RunRequest, SizedScenario, run
from pytest_donki.strategies import scenarios

DATA_CHECKS = ("run", "acks", "levels", "ordering", "integrity", "views")


@settings(settings.get_profile("donki-ci"), max_examples=4)
@given(scenario=scenarios(max_players=3, max_triggers=6))
def test_generated_scenarios_are_complete_in_order_and_byte_exact(scenario, donki_kafka, tmp_path_factory):
    outcome = run(RunRequest(SizedScenario.as_given(scenario), donki_kafka,
                             workdir=tmp_path_factory.mktemp("generated"), mode="thread"))
    failed = [outcome.checks[name].report() for name in DATA_CHECKS if not outcome.checks[name].passed]
    assert not failed, f"{scenario.to_dict()}\n" + "\n".join(failed)
    assert sum(s.messages for s in outcome.summary.streams) == outcome.checks["integrity"].metrics["saved_messages"]


def test_the_plugin_registers_its_hypothesis_profiles(pytester):
    pytester.makepyfile(
        "from hypothesis import settings\n"
        "def test_profiles():\n"
        "    assert settings.get_profile('donki').deadline is None\n"
        "    assert settings.get_profile('donki-ci').derandomize\n"
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
