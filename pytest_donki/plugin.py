"""The pytest11 entry point ``donki``: options, ini keys, markers, hooks and fixture wiring.

Behaviour lives in :mod:`harness`; this module only connects it to pytest. It loads in
every pytest run, so it imports the engine only when a donki setting is given (then a bad
value is a usage error at start-up) or a donki fixture is used (:mod:`pytest_donki.engine`).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from pytest_donki.engine import EngineShadowed, engine_loaded, shadowing_module
from pytest_donki.factories import CALL_REPORT
from pytest_donki.marker import MARKER_HELP
from pytest_donki.options import add_options, donki_requested
from pytest_donki.player_errors import pytest_runtest_call  # noqa: F401 - player errors fail the test that ran them
from pytest_donki.settings import SETTINGS_KEY, read, settings_of

SCENARIO_MODULE = Path(__file__).with_name("donki_scenarios.py")
SCENARIO_NODEID = "donki-scenarios"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    from pytest_donki import fixtures
    from pytest_donki.profiles import register_profiles
    from pytest_donki.summary import COLLECTOR, RunCollector

    if not config.pluginmanager.is_registered(fixtures):
        config.pluginmanager.register(fixtures, "donki-fixtures")
    register_profiles()
    config.stash[COLLECTOR] = RunCollector()
    config.pluginmanager.register(config.stash[COLLECTOR], "donki-summary")
    from pytest_donki.html import register as register_reports

    register_reports(config)  # verdicts into JUnit XML, tables and figures into pytest-html rows (no engine import)
    if not donki_requested(config) or shadowing_module() is not None:
        return  # the engine loads when a donki fixture is first used (which names a shadowing module)
    config.stash[SETTINGS_KEY] = read(config)  # once; a bad value is a usage error now, not in every test
    _require_report_dependencies(config)
    if config.stash[SETTINGS_KEY].scenarios:
        # --donki-scenario alone runs just the scenarios; with paths, the scenarios run beside them
        if config.args_source != pytest.Config.ArgsSource.ARGS:
            config.args[:] = [str(SCENARIO_MODULE)]
        elif str(SCENARIO_MODULE) not in config.args:
            config.args.append(str(SCENARIO_MODULE))


def _require_report_dependencies(config: pytest.Config) -> None:
    """``--donki-report`` draws plots: without matplotlib that is a usage error now, not one per test."""
    if settings_of(config).report and not _installed("matplotlib"):
        raise pytest.UsageError("pytest-donki: --donki-report (donki_report, DONKI_REPORT) draws its plots with "
                                "matplotlib, which is not installed: pip install 'pytest-donki[report]'")


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules (blocked)
        return False


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """The scenario tests live in this package, maybe far from the rootdir: give them a short id."""
    if Path(module_path) == SCENARIO_MODULE:
        return pytest.Module.from_parent(parent, path=Path(module_path), nodeid=SCENARIO_NODEID)
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if Path(metafunc.definition.path) == SCENARIO_MODULE and "donki_sized_scenario" in metafunc.fixturenames:
        refs = settings_of(metafunc.config).scenarios
        metafunc.parametrize("donki_sized_scenario", refs, indirect=True,
                             ids=[Path(r).stem if r.endswith(".toml") else r for r in refs])


@pytest.hookimpl(trylast=True)  # after the fixtures are set up: raising before them confuses pytest's setup state
def pytest_runtest_setup(item: pytest.Item) -> None:
    from pytest_donki.factories import check_session_brokers

    check_session_brokers(item)  # a session broker that died fails later tests at once, or is restarted


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report  # donki_run writes golden recordings only for passed tests
    _shorten_donki_errors(item, call, report)
    return report


def _shorten_donki_errors(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """A DonkiError says what input was wrong and how to fix it: show that, not harness internals.

    Check failures keep pytest's usual report (the failing line of the test); ``--tb=long``
    keeps the full traceback for every error.
    """
    if call.excinfo is None or item.config.getoption("tbstyle", "auto") == "long":
        return
    if isinstance(call.excinfo.value, EngineShadowed):
        report.longrepr = str(call.excinfo.value)
        return
    if not engine_loaded():
        return
    from harness.errors import CheckFailed, DonkiError

    error = call.excinfo.value
    if isinstance(error, DonkiError) and not isinstance(error, CheckFailed) and report.failed:
        report.longrepr = f"{type(error).__module__}.{type(error).__name__}: {error}"


def pytest_report_header(config: pytest.Config) -> str:
    if SETTINGS_KEY not in config.stash:
        return "donki: no donki setting given; the engine and the broker start with the first donki fixture"
    settings = settings_of(config)
    return (f"donki: kafka {_describe_provider(settings.kafka, settings.bootstrap)}; "
            f"record mode {settings.record_mode.value}")


def _describe_provider(provider: str, bootstrap: str | None) -> str:
    """Which provider will serve, and the Kafka version where it is known before start."""
    from harness.kafka.factory import chosen_provider

    chosen = chosen_provider(provider, bootstrap)
    if chosen == "external":
        return f"provider external ({provider}), bootstrap {bootstrap}"
    if chosen == "container":
        from harness.kafka.container import describe_container_image

        return f"provider container ({provider}), image {describe_container_image()}"
    from harness.kafka.runtime import runtime_description

    found = runtime_description()
    if found is None:
        return f"provider local ({provider}), Apache Kafka not fetched yet (fetched on first use)"
    return f"provider local ({provider}), Apache Kafka {found[0]} from {found[1]}"
