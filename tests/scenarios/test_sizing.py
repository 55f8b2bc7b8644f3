"""Sizing a scenario: its length, and which golden recording that length compares with."""

from __future__ import annotations

import pytest

from harness.errors import ScenarioError
from harness.recording.golden.store import GoldenStore
from harness.recording.writer.writer import RecordingWriter
from harness.runs import golden_variant, size_scenario
from harness.scenarios import load_scenario, loads_scenario

MINE = """
[scenario]
name = "mine"
rate = 10.0
triggers = 40

[[players]]
name = "temperature"
stream = "a-scalar"
topic = "mine_sample_env"
priority = 0
"""


def test_without_a_store_each_length_has_its_own_golden_name():
    scenario = load_scenario("e-mixed")
    names = {length: size_scenario(scenario, length).golden_name for length in ("golden", "ci", "full", 20, "5s")}
    assert names == {"golden": "e-mixed", "ci": "e-mixed.ci", "full": "e-mixed.full", 20: "e-mixed.20t",
                     "5s": "e-mixed.5s"}
    assert size_scenario(scenario, "5s").scenario.triggers == 50
    with pytest.raises(ScenarioError, match="length 'long' is not valid"):
        size_scenario(scenario, "long")


@pytest.mark.parametrize("length, triggers", [("20", 20), ("5s", 70), ("ci", 14)])
def test_a_trigger_count_length_of_a_builtin_compares_with_its_plain_golden(tmp_path, length, triggers):
    scenario = load_scenario("ess-pulse")
    sized = size_scenario(scenario, length, goldens=GoldenStore(tmp_path / "recordings"))  # packaged golden only
    assert sized.golden_name == "ess-pulse" and sized.scenario.triggers == triggers
    # the golden variant's parameters (ess-pulse's CI events per pulse), so its first triggers are the golden's
    assert sized.scenario.players == golden_variant(scenario).players != scenario.players
    assert size_scenario(scenario, "full", goldens=GoldenStore(tmp_path)).golden_name == "ess-pulse.full"


def test_a_projects_own_golden_of_that_length_still_wins(tmp_path):
    with RecordingWriter(tmp_path / "e-mixed.20t.h5"):
        pass
    sized = size_scenario(load_scenario("e-mixed"), 20, goldens=GoldenStore(tmp_path))
    assert sized.golden_name == "e-mixed.20t" and sized.scenario == load_scenario("e-mixed").with_length(triggers=20)


def test_a_scenario_without_a_plain_golden_keeps_the_length_in_the_name(tmp_path):
    mine = loads_scenario(MINE, "mine.toml")
    assert size_scenario(mine, 20, goldens=GoldenStore(tmp_path)).golden_name == "mine.20t"
    with RecordingWriter(tmp_path / "mine.h5"):
        pass
    assert size_scenario(mine, 20, goldens=GoldenStore(tmp_path)).golden_name == "mine"


@pytest.mark.parametrize("length, seconds, name", [("500ms", 0.5, "e-mixed.0.5s"), ("2m", 120, "e-mixed.120s"),
                                                   ("1m30s", 90, "e-mixed.90s"), ("2.5s", 2.5, "e-mixed.2.5s")])
def test_a_duration_length_takes_the_one_duration_syntax(length, seconds, name):
    sized = size_scenario(load_scenario("e-mixed"), length)
    assert sized.golden_name == name and sized.scenario.triggers == max(1, round(seconds * 10))


@pytest.mark.parametrize("length", ["0s", "nan", "infs", "-5s", "8d", "1e9s", "2.5"])
def test_a_length_out_of_range_is_refused_with_what_is_expected(length):
    with pytest.raises(ScenarioError, match=f"length {length!r} is not valid; .*a duration up to 7 days"):
        size_scenario(load_scenario("e-mixed"), length)
