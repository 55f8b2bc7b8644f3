"""Issue 12, every input validated: one exit-2 line naming the value, before anything starts."""

import math

import pytest

from harness.cli.main import main
from harness.errors import ConfigError, RecordingError, ScenarioError
from harness.scenarios import load_scenario, loads_scenario

NOWHERE = ["-b", "127.0.0.1:1"]  # nothing listens: a command that got past validation fails differently


@pytest.mark.parametrize("argv,message", [
    (["record", "-t", "x", "-o", "r.h5", "--duration", "nan", *NOWHERE], "--duration: nan"),
    (["record", "-t", "x", "-o", "r.h5", "--duration", "inf", *NOWHERE], "--duration: inf"),
    (["record", "-t", "x", "-o", "r.h5", "--flush-interval", "nan", *NOWHERE], "--flush-interval: nan"),
    (["record", "-t", "x", "-o", "r.h5", "--count", "0", *NOWHERE], "--count: 0"),
    (["record", "-t", "x", "-o", "", *NOWHERE], "the path is empty"),
    (["record", "-t", "x", "-o", "/proc/x.h5", *NOWHERE], "/proc"),
    (["record", "-t", "x", "-o", "no/such/dir/r.h5", *NOWHERE], "does not exist"),
    (["record", "-t", "x", "-o", "r.h5", "--start", "1e20", *NOWHERE], "start position '1e20'"),
    (["record", "-t", "x", "-o", "r.h5", "--start", "nan", *NOWHERE], "start position 'nan'"),
    (["replay", "x.h5", "--speed", "1e-300", *NOWHERE], "--speed: 1e-300"),
    (["replay", "x.h5", "--speed", "nan", *NOWHERE], "--speed: nan"),
    (["replay", "x.h5", "--loop", "0", *NOWHERE], "--loop: 0"),
    (["replay", "x.h5", "--max-gap", "-1", *NOWHERE], "--max-gap: -1"),
    (["golden", "diff", "a.h5", "b.h5", "--rate-tolerance", "-1"], "--rate-tolerance: -1"),
    (["golden", "diff", "a.h5", "b.h5", "--rate-tolerance", "nan"], "--rate-tolerance: nan"),
    (["kafka", "start", "--port", "70000"], "--port: 70000"),
    (["kafka", "start", "--topic", "t:zero"], "--topic"),
    (["run", "e-mixed", "--duration", "inf"], "--duration: inf"),
    (["run", "e-mixed", "--duration", "1e12"], "--duration: 1000000000000.0"),
    (["run", "e-mixed", "--triggers", "0"], "--triggers: 0"),
    (["run", "e-mixed", "--json", "/proc/x"], "/proc"),
    (["director", "--players", "1", "--ack-timeout", "nan"], "--ack-timeout: nan"),
    (["director", "--players", "1", "--rate", "inf"], "--rate: inf"),
    (["director", "--players", "1", "--run-timeout", "-1"], "--run-timeout: -1"),
    (["director", "--players", "1", "--liveness", "0"], "--liveness: 0"),
    (["director", "--players", "1", "--endpoint-file", "/proc/x"], "/proc"),
    (["player", "--director", "tcp://127.0.0.1:1", "--name", "p", "--stream", "noop", "--hello-timeout", "inf"],
     "--hello-timeout: inf"),
])
def test_bad_values_exit_2_with_one_line_before_anything_starts(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if "error:" in line]) == 1


def test_a_run_with_a_bad_duration_starts_no_broker(capsys, monkeypatch):
    import harness.kafka

    monkeypatch.setattr(harness.kafka, "make_broker", lambda *a, **k: pytest.fail("a broker was started"))
    assert main(["run", "e-mixed", "--duration", "1e12"]) == 2


SCENARIO = """[scenario]
name = "x"
rate = 14
{head}

[[players]]
name = "p"
stream = "a-scalar"
{params}
"""


@pytest.mark.parametrize("head,params,message", [
    ("triggers = 1e12", "", "expected an integer"),
    ("triggers = 1000000000000", "", "above the maximum"),
    ("duration = inf", "", "expected a finite number"),
    ("duration = nan", "", "expected a finite number"),
    ("duration = 1e12", "", "above the maximum"),
    ("triggers = 3", "[players.params]\nbase = nan", "expected a finite number"),
    ("triggers = 3", "[players.params]\nlength = 1000000\nper_trigger = 100000", "values per trigger"),
])
def test_bad_scenario_numbers_are_scenario_errors(head, params, message):
    with pytest.raises(ScenarioError, match=message):
        loads_scenario(SCENARIO.format(head=head, params=params))


def test_a_toml_nested_5000_deep_is_one_line():
    with pytest.raises(ScenarioError, match="nested too deeply"):
        loads_scenario("a = " + "[" * 5000 + "]" * 5000)


def test_a_scenario_file_nested_5000_deep_exits_2(tmp_path, capsys):
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000)
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "nested too deeply" in err and "Traceback" not in err


def test_the_player_count_of_a_scenario_is_capped():
    players = "\n".join(f'[[players]]\nname = "p{i}"\nstream = "a-scalar"\n' for i in range(2000))
    with pytest.raises(ScenarioError, match="2000 players; at most 64"):
        loads_scenario(f'[scenario]\nname = "many"\nrate = 1\ntriggers = 1\n\n{players}')


@pytest.mark.parametrize("duration", [math.inf, math.nan, 1e12, -1.0])
def test_scenario_lengths_from_the_api_are_checked(duration):
    with pytest.raises(ScenarioError, match="duration"):
        load_scenario("e-mixed").with_length(duration_s=duration)


def test_api_numbers_are_checked(tmp_path):
    from harness.kafka import LocalKafka
    from harness.recording.golden.compare import Tolerance
    from harness.recording.writer.recorder import Recorder

    with pytest.raises(RecordingError, match="rate tolerance"):
        Tolerance(rate=-1)
    with pytest.raises(RecordingError, match="rate tolerance"):
        Tolerance(rate=math.nan)
    for kwargs in ({"duration_s": math.nan}, {"flush_interval_s": math.nan}, {"max_messages": 0},
                   {"duration_s": math.inf}):
        with pytest.raises(ConfigError):
            Recorder(tmp_path / "r.h5", ["t"], {"bootstrap.servers": "127.0.0.1:1"}, **kwargs)
    with pytest.raises(ConfigError, match="empty"):
        Recorder("", ["t"], {"bootstrap.servers": "127.0.0.1:1"})
    with pytest.raises(ConfigError, match="port"):
        LocalKafka(port=70000)


def test_donki_player_takes_its_kafka_cluster_from_DONKI_BOOTSTRAP(monkeypatch):
    from harness.cli.main import build_parser
    from harness.cli.orchestra_cmd import player_config

    argv = ["player", "--director", "tcp://127.0.0.1:5555", "--name", "p", "--stream", "a-scalar"]
    monkeypatch.setenv("DONKI_BOOTSTRAP", "127.0.0.1:19092")
    assert player_config(build_parser().parse_args(argv)).bootstrap == "127.0.0.1:19092"
    given = build_parser().parse_args([*argv, "--bootstrap", "127.0.0.1:29092"])
    assert player_config(given).bootstrap == "127.0.0.1:29092"  # the flag wins
    monkeypatch.delenv("DONKI_BOOTSTRAP")
    assert player_config(build_parser().parse_args(argv)).bootstrap is None
