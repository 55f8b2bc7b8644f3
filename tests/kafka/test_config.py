"""The one settings resolver: precedence and `is None` semantics."""

import pytest

from harness.config import Setting, register_setting, resolve
from harness.errors import ConfigError
from harness.runs.settings import SETTINGS


@pytest.fixture()
def number_setting():
    register_setting(Setting("test_number", "a number for tests", 7, None, int))
    yield "test_number"
    SETTINGS.pop("test_number")


def test_argument_beats_option_beats_env_beats_ini_beats_default(number_setting):
    env = {"DONKI_TEST_NUMBER": "4"}
    assert resolve(number_setting, argument=1, option="2", ini="3", environ=env) == 1
    assert resolve(number_setting, option="2", ini="3", environ=env) == 2
    assert resolve(number_setting, ini="3", environ=env) == 4
    assert resolve(number_setting, ini="3", environ={}) == 3
    assert resolve(number_setting, environ={}) == 7


def test_falsy_values_set_on_purpose_are_honoured(number_setting):
    assert resolve(number_setting, argument=0, option="2", environ={}) == 0


def test_empty_ini_value_counts_as_unset(number_setting):
    assert resolve(number_setting, ini="", environ={"DONKI_TEST_NUMBER": "5"}) == 5


def test_bad_choice_names_the_source_and_the_allowed_values():
    with pytest.raises(ConfigError) as info:
        resolve("kafka", environ={"DONKI_KAFKA": "zookeeper"})
    message = str(info.value)
    assert "DONKI_KAFKA" in message and "'zookeeper'" in message
    assert "auto, local, container, external" in message


def test_bad_conversion_names_the_option(number_setting):
    with pytest.raises(ConfigError, match="option --donki-test-number: 'many'"):
        resolve(number_setting, option="many", environ={})


def test_every_setting_has_twin_option_ini_and_env_names():
    for spec in SETTINGS.values():
        assert spec.option == "--donki-" + spec.ini[len("donki_"):].replace("_", "-")
        assert spec.env == spec.ini.upper()
