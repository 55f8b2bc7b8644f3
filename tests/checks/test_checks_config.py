"""ChecksConfig: the one spelling of per-test checks, and run_checks honouring it."""

import math
from types import SimpleNamespace

import pytest
from literal_streams import JournalBuilder, record

from harness.checks.config import CHECK_NAMES, ChecksConfig, RateOptions
from harness.checks.suite import run_checks
from harness.errors import ConfigError
from harness.scenarios.players import Expectations

MARKER = "@pytest.mark.donki(checks=...)"


def test_the_documented_spelling():
    config = ChecksConfig.parse({"rates": {"tolerance": 0.2}, "golden": False, "views": False}, MARKER)
    assert config.disabled == {"golden", "views"}
    assert config.rates == RateOptions(tolerance=0.2)
    assert not config.enabled("golden") and config.enabled("rates") and config.enabled("acks")
    assert config.to_dict() == {"views": False, "golden": False, "rates": {"tolerance": 0.2}}
    assert ChecksConfig.parse(config.to_dict()) == config


def test_none_true_and_a_config_itself():
    assert ChecksConfig.parse(None) == ChecksConfig() == ChecksConfig.parse({"rates": True, "acks": True})
    config = ChecksConfig.parse({"rates": {"statistic": "median", "min_messages": 10, "confidence": 0,
                                           "jitter_p99_ms": 20}})
    assert ChecksConfig.parse(config) is config
    assert config.rates == RateOptions(statistic="median", min_messages=10, confidence=0.0, jitter_p99_ms=20.0)
    assert ChecksConfig().to_dict() == {}


@pytest.mark.parametrize("value, message", [
    ({"rates": {"tolerance": 2}}, f"{MARKER}: rates.tolerance=2: expected a number in (0, 1]"),
    ({"rates": {"tolerance": 0}}, "rates.tolerance=0: expected a number in (0, 1]"),
    ({"rates": {"tolerance": math.nan}}, "rates.tolerance=nan: expected a number in (0, 1]"),
    ({"rates": {"tolerance": math.inf}}, "rates.tolerance=inf: expected a number in (0, 1]"),
    ({"rates": {"tolerance": "0.2"}}, "rates.tolerance='0.2': expected a number in (0, 1]"),
    ({"rates": {"tolerance": True}}, "rates.tolerance=True: expected a number in (0, 1]"),
    ({"rates": {"statistic": "max"}}, "rates.statistic='max': expected one of slope, median, mean"),
    ({"rates": {"min_messages": 2}}, "rates.min_messages=2: expected an integer >= 3"),
    ({"rates": {"min_messages": 3.0}}, "rates.min_messages=3.0: expected an integer >= 3"),
    ({"rates": {"confidence": 1}}, "rates.confidence=1: expected a number in [0, 1)"),
    ({"rates": {"tolerence": 0.2}}, "unknown option rates.tolerence; options of rates: tolerance, statistic"),
    ({"rate": False}, "unknown check 'rate'; expected one of: run, acks, levels"),
    ({"golden": {"rewrite": True}}, "unknown option golden.rewrite; options of golden: (none)"),
    ({"golden": "off"}, "golden='off': expected True or False (it has no options)"),
    ({"rates": 0.2}, "rates=0.2: expected True, False or a table of options"),
    (["rates"], "['rates'] is not a table of checks"),
])
def test_bad_values_are_one_line_config_errors_naming_the_place(value, message):
    with pytest.raises(ConfigError) as caught:
        ChecksConfig.parse(value, MARKER)
    text = str(caught.value)
    assert message in text and text.startswith(MARKER) and "\n" not in text


def _scenario(tolerance=0.05):
    player = SimpleNamespace(name="e", clock="wall", expect=Expectations(rate_tolerance=tolerance),
                             rate_hz=lambda base: base)
    control = SimpleNamespace(name="control", clock="wall", expect=Expectations(), rate_hz=lambda base: base)
    return SimpleNamespace(rate_hz=10.0, players=[control, player])


def _run(times_ms, config=None, control_messages=(1, 0, 0, 0, 1)):
    jb = JournalBuilder().join("control").join("e", priority=1)
    records, control_seq = [], 0
    for trigger, t in enumerate(times_ms, 1):
        ts_ms = 1_700_000_000_000 + t
        jb.send(trigger, "control").ack(trigger, "control", messages=control_messages[trigger - 1])
        for _ in range(control_messages[trigger - 1]):
            records.append(record("control", trigger, control_seq, topic="c", ts_ms=ts_ms))
            control_seq += 1
        jb.send(trigger, "e", level=1).ack(trigger, "e", level=1)
        records.append(record("e", trigger, trigger - 1, ts_ms=ts_ms))
    return run_checks(_scenario(), jb.journal, None, records=records, config=config)


def test_run_checks_leaves_out_disabled_checks():
    results = _run([0, 100, 200, 300, 400], ChecksConfig.parse({"views": False, "levels": False}))
    assert list(results) == [n for n in CHECK_NAMES if n not in ("views", "levels", "golden", "file-writer")]
    assert all(r.passed for r in results.values()), [r.report() for r in results.values()]


def test_the_config_tolerance_replaces_the_players_and_unset_keeps_it():
    steady_slow = [round(i * 1000 / 8.5) for i in range(5)]  # 8.5 Hz against 10: -15 %
    assert not _run(steady_slow)["rates"].passed  # the player's 5 %
    relaxed = _run(steady_slow, ChecksConfig.parse({"rates": {"tolerance": 0.2}}))["rates"]
    assert relaxed.passed and relaxed.metrics["e"]["tolerance"] == 0.2


def test_rates_options_reach_the_check():
    config = ChecksConfig.parse({"rates": {"statistic": "mean", "confidence": 0, "min_messages": 6}})
    result = _run([0, 100, 200, 300, 400], config)["rates"]
    assert result.metrics["unrated"] == ["control", "e"]  # 5 messages < 6
    config = ChecksConfig.parse({"rates": {"statistic": "mean", "confidence": 0}})
    result = _run([0, 100, 200, 300, 400], config)["rates"]
    assert result.metrics["e"]["confidence"] == 0 and result.metrics["e"]["achieved_hz"] == pytest.approx(10)


def test_run_control_with_two_messages_is_unrated():
    result = _run([0, 100, 200, 300, 400], control_messages=(1, 1, 1, 1, 1))["rates"]
    assert result.metrics["unrated"] == [] and result.checked == 2
    assert _run([0, 100, 200, 300, 400])["rates"].metrics["unrated"] == ["control"]
