"""The pytest11 entry point ``donki``: options, ini keys, markers and fixture wiring."""

from __future__ import annotations

import pytest

from harness.config import SETTINGS
from pytest_donki.orchestra import pytest_runtest_call  # noqa: F401 - player errors fail the test that ran them

MARKERS = (
    "donki(scenario=None, record_mode=None): run the test against a donki scenario",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("donki", "pytest-donki: Kafka record-replay harness")
    for spec in SETTINGS.values():
        group.addoption(spec.option, dest=spec.dest, default=None, help=f"{spec.help} (ini: {spec.ini}, env: {spec.env})")
        parser.addini(spec.ini, help=spec.help, default=None)


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    from pytest_donki import fixtures

    if not config.pluginmanager.is_registered(fixtures):
        config.pluginmanager.register(fixtures, "donki-fixtures")


def pytest_report_header(config: pytest.Config) -> str:
    from pytest_donki.settings import setting

    try:
        provider = setting(config, "kafka")
        bootstrap = setting(config, "bootstrap")
    except Exception as exc:  # noqa: BLE001 - a bad value is reported by the fixture that uses it
        return f"donki: configuration error: {exc}"
    where = f", bootstrap {bootstrap}" if bootstrap else ""
    return f"donki: kafka provider {provider}{where}"
