"""JSON nested too deeply (a RecursionError, not a ValueError) is bad input like any other, wherever JSON is read."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError, ScenarioError
from harness.reporting.files import read_report
from harness.scenarios import loads_scenario

DEEP = "[" * 100_000


def test_a_report_nested_too_deeply_is_one_config_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(DEEP)
    with pytest.raises(ConfigError, match=r"deep.json: cannot read it as JSON \(RecursionError"):
        read_report(path)


def test_a_scenario_parameter_nested_too_deeply_is_one_scenario_error():
    text = f'''
[scenario]
name = "deep"
rate = 1.0
triggers = 2
[[players]]
stream = "run-control"
topic = "donki_control"
[players.params]
nexus_structure = "{DEEP[:20_000]}"
'''
    with pytest.raises(ScenarioError, match="nexus_structure: not valid JSON"):
        loads_scenario(text, "deep.toml")


def test_a_golden_comparison_of_deeply_nested_status_compares_text():
    from harness.recording.golden.payloads import _status_json

    assert _status_json(DEEP) == DEEP
