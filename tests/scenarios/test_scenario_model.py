"""Scenario files: built-ins, round trips, run lengths, and clear errors for bad files."""

from __future__ import annotations

import sys
import textwrap
import tomllib
from importlib.metadata import EntryPoint

import pytest

from harness.errors import ScenarioError
from harness.kinds import registry as kinds_module
from harness.orchestra.ack import AckAfter
from harness.scenarios import (
    Param,
    Scenario,
    StreamKind,
    builtin_names,
    builtin_scenarios,
    get_stream_kind,
    load_scenario,
    loads_scenario,
    register_stream_kind,
    stream_kinds,
)
from harness.scenarios.players import derive_seed

BUILTINS = ["a-scalar", "all-streams", "b-image", "c-spectrum", "d-array3d", "e-mixed", "ess-instrument", "ess-pulse",
            "file-writing"]

MINIMAL = """
[scenario]
name = "mini"
rate = 10
triggers = 5

[[players]]
stream = "a-scalar"
topic = "donki_env"
"""


def test_every_builtin_is_shipped_and_valid():
    assert builtin_names() == BUILTINS
    for name, scenario in builtin_scenarios().items():
        assert scenario.name == name
        assert scenario.description
        assert scenario.triggers and scenario.ci().triggers <= scenario.triggers


def test_builtin_rates_match_the_stream_table():
    def message_rate(scenario, player):
        return scenario.player(player).rate_hz(scenario.rate_hz) * scenario.player(player).params.get("per_trigger", 1)

    everything = load_scenario("all-streams")
    assert {p: message_rate(everything, p) for p in ("a-scalar", "b-image", "c-spectrum", "d-array3d", "e-mixed")} == {
        "a-scalar": 1.0, "b-image": 50.0, "c-spectrum": 10.0, "d-array3d": 1000.0, "e-mixed": 10.0}
    pulses = load_scenario("ess-pulse")
    assert pulses.rate_hz == 14.0 and pulses.player("ess-events").params["events_per_pulse"] == 1_000_000
    assert pulses.duration_s == 30.0
    assert pulses.ci().player("ess-events").params["events_per_pulse"] == 100_000
    assert pulses.player("run-control").priority < pulses.player("ess-events").priority


def test_defaults_are_filled_in_and_seeds_derived():
    scenario = loads_scenario(MINIMAL, "mini.toml")
    (player,) = scenario.players
    assert (player.name, player.priority, player.divisor, player.partitions, player.ack) == (
        "a-scalar", 1, 1, 1, AckAfter.DELIVERY)
    assert player.params == get_stream_kind("a-scalar").resolve({}, "x")
    assert player.seed == derive_seed(0, "a-scalar") != derive_seed(0, "b-image")
    assert scenario.triggers == 5 and scenario.duration_s == 0.5


def test_round_trip_through_dict_and_toml_keeps_everything(tmp_path):
    for scenario in builtin_scenarios().values():
        again = Scenario.from_dict(scenario.to_dict(), "copy")
        assert again.to_dict() == scenario.to_dict()
        assert again.players == scenario.players


def test_load_scenario_from_a_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL)
    assert load_scenario(path).name == load_scenario(str(path)).name == "mini"


def test_rate_or_divisor_and_duration_or_triggers():
    text = MINIMAL.replace("triggers = 5", "duration = 2.5") + 'rate = 2.5\n'
    scenario = loads_scenario(text, "x.toml")
    assert scenario.triggers == 25 and scenario.players[0].divisor == 4
    assert scenario.players[0].rate_hz(scenario.rate_hz) == 2.5


def test_with_length_overrides_the_run_length():
    scenario = load_scenario("e-mixed")
    assert scenario.with_length(triggers=3).triggers == 3
    assert scenario.with_length(duration_s=1.5).triggers == 15
    assert scenario.with_length().triggers == scenario.triggers
    with pytest.raises(ScenarioError, match="not both"):
        scenario.with_length(triggers=1, duration_s=1.0)
    with pytest.raises(ScenarioError, match="positive"):
        scenario.with_length(duration_s=-1.0)


BAD_FILES = {
    "unknown stream": ('stream = "a-scalar"', 'stream = "z-laser"',
                       "players[0] ('z-laser').stream: unknown stream kind 'z-laser'; expected one of: a-scalar"),
    "negative rate": ("rate = 10", "rate = -10", "scenario.rate: -10.0 is not allowed; expected a number above 0"),
    "zero player rate": ('topic = "donki_env"', 'topic = "donki_env"\nrate = 0',
                         "players[0] ('a-scalar').rate: 0.0 is not allowed; expected a number above 0"),
    "missing topic": ('topic = "donki_env"', "", "players[0] ('a-scalar'): missing required key 'topic'"),
    "missing length": ("triggers = 5", "", "scenario: missing the run length: set 'triggers'"),
    "missing players": ('[[players]]\nstream = "a-scalar"\ntopic = "donki_env"', "", "missing [[players]]"),
    "wrong type": ("triggers = 5", 'triggers = "five"', "scenario.triggers: expected an integer, found 'five' (str)"),
    "bool for number": ("rate = 10", "rate = true", "scenario.rate: expected a number, found True (bool)"),
    "typo in key": ('topic = "donki_env"', 'topic = "donki_env"\nprioritty = 2',
                    "players[0]: unknown key(s) 'prioritty'; allowed keys: name, stream, topic, partitions, priority"),
    "bad choice": ('topic = "donki_env"', 'topic = "donki_env"\nack = "never"',
                   "players[0] ('a-scalar').ack: 'never' is not allowed; expected one of: 'delivery', 'send'"),
    "bad param": ('topic = "donki_env"', 'topic = "donki_env"\nparams = { dtype = "complex128" }',
                  "players[0] ('a-scalar').params.dtype: 'complex128' is not allowed; expected one of: 'float64'"),
    "unknown param": ('topic = "donki_env"', 'topic = "donki_env"\nparams = { colour = "red" }',
                      "params: unknown key(s) colour; allowed keys: base, drift_amplitude"),
    "rate not a divisor": ('topic = "donki_env"', 'topic = "donki_env"\nrate = 3',
                           "3 Hz is not the scenario rate 10 Hz divided by a whole number; allowed rates: 10, 5"),
    "bad topic": ('topic = "donki_env"', 'topic = "donki env!"', "'donki env!' is not a valid topic name"),
    "both lengths": ("triggers = 5", "triggers = 5\nduration = 1.0", "give either 'triggers' or 'duration'"),
    "bad ack policy": ("triggers = 5", 'triggers = 5\nack = { policy = "pray" }',
                       "scenario.ack.policy: 'pray' is not allowed; expected one of: 'fail', 'skip', 'resend'"),
    "not toml": ("[scenario]", "[scenario", "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_scenario_files_name_file_key_and_allowed_values(case):
    old, new, message = BAD_FILES[case]
    with pytest.raises(ScenarioError) as error:
        loads_scenario(MINIMAL.replace(old, new, 1), "bad.toml")
    assert str(error.value).startswith("bad.toml: ")
    assert message in str(error.value)


def test_duplicate_player_names_and_conflicting_partitions():
    two = MINIMAL + '\n[[players]]\nstream = "a-scalar"\ntopic = "other"\n'
    with pytest.raises(ScenarioError, match="names must be unique; repeated: a-scalar"):
        loads_scenario(two, "dup.toml")
    shared = MINIMAL + '\n[[players]]\nname = "b"\nstream = "a-scalar"\ntopic = "donki_env"\npartitions = 3\n'
    with pytest.raises(ScenarioError, match="topic 'donki_env' has partitions=3 here but 1"):
        loads_scenario(shared, "parts.toml")


def test_cross_parameter_checks():
    huge = MINIMAL.replace('stream = "a-scalar"', 'stream = "d-array3d"') + "params = { shape = [4096, 4096, 16] }\n"
    with pytest.raises(ScenarioError, match="elements per trigger"):
        loads_scenario(huge, "huge.toml")
    json_bad = MINIMAL.replace('stream = "a-scalar"', 'stream = "run-control"') + 'params = { metadata = "{x" }\n'
    with pytest.raises(ScenarioError, match=r"params.metadata: not valid JSON"):
        loads_scenario(json_bad, "rc.toml")


def test_ci_overrides_must_name_players_and_valid_params():
    text = MINIMAL.replace("triggers = 5",
                           "triggers = 5\n[scenario.ci]\ntriggers = 2\n[scenario.ci.params.nobody]\nx = 1")
    with pytest.raises(ScenarioError, match="scenario.ci.params: no player 'nobody'"):
        loads_scenario(text, "ci.toml")
    text = MINIMAL.replace("triggers = 5", "triggers = 5\n[scenario.ci.params.a-scalar]\nnoise = -1.0")
    with pytest.raises(ScenarioError, match="scenario.ci.params.a-scalar.noise"):
        loads_scenario(text, "ci.toml")


def test_unknown_scenario_name_lists_the_builtins():
    with pytest.raises(ScenarioError, match="neither a file nor a built-in scenario; built-ins: a-scalar, all-streams"):
        load_scenario("f-nonexistent")


def _custom_kind(name: str) -> StreamKind:
    def factory(params, context):
        return lambda trigger: None

    return StreamKind(name, "a test kind", (Param("recording", str, help="path"),), factory, ("ev44",))


def test_other_packages_can_register_stream_kinds():
    kind = register_stream_kind(_custom_kind("test-captured"))
    try:
        text = MINIMAL.replace('stream = "a-scalar"', 'stream = "test-captured"')
        with pytest.raises(ScenarioError, match="missing required key 'recording'"):
            loads_scenario(text, "plugin.toml")
        scenario = loads_scenario(text + 'params = { recording = "golden.h5" }\n', "plugin.toml")
        assert scenario.players[0].params == {"recording": "golden.h5"}
        with pytest.raises(ScenarioError, match="already registered"):
            register_stream_kind(_custom_kind("test-captured"))
        assert register_stream_kind(kind) is kind  # the same kind again is fine
    finally:
        kinds_module._REGISTRY.pop("test-captured")


def test_entry_point_plugins_are_loaded_and_broken_ones_reported(tmp_path, monkeypatch):
    (tmp_path / "donki_test_plugin.py").write_text(textwrap.dedent("""
        from harness.scenarios import Param, StreamKind
        KIND = StreamKind("test-plugin", "from an entry point", (Param("x", int, 1),), lambda p, c: None)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    points = [EntryPoint("good", "donki_test_plugin:KIND", kinds_module.ENTRY_POINT_GROUP),
              EntryPoint("broken", "donki_missing_module:KIND", kinds_module.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(kinds_module, "_entry_points", lambda: points)
    monkeypatch.setattr(kinds_module, "_loaded", False)
    monkeypatch.setattr(kinds_module, "_LOAD_ERRORS", [])
    try:
        assert stream_kinds()["test-plugin"].description == "from an entry point"
        assert "a-scalar" in stream_kinds()
        with pytest.raises(ScenarioError, match="plugins that failed to load: broken = donki_missing_module:KIND"):
            get_stream_kind("nope")
    finally:
        kinds_module._REGISTRY.pop("test-plugin", None)
        sys.modules.pop("donki_test_plugin", None)


def test_builtin_files_are_plain_toml():
    from importlib import resources

    for name in BUILTINS:
        data = tomllib.loads(resources.files("harness.scenarios.builtin").joinpath(f"{name}.toml").read_text())
        assert data["scenario"]["name"] == name


def test_catch_up_defaults_to_one_is_kept_by_the_round_trip_and_is_bounded():
    assert loads_scenario(MINIMAL, "mini.toml").catch_up == 1
    assert "catch_up" not in loads_scenario(MINIMAL, "mini.toml").to_dict()["scenario"]
    pulses = load_scenario("ess-pulse")
    assert pulses.catch_up == 7 and Scenario.from_dict(pulses.to_dict()).catch_up == 7
    for bad in ("0", "1001", "2.5", "true"):
        with pytest.raises(ScenarioError, match="catch_up"):
            loads_scenario(MINIMAL.replace("triggers = 5", f"triggers = 5\ncatch_up = {bad}"), "bad.toml")
