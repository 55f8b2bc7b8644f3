"""Fixture factories for scenario runs: ``donki_scenario``, ``donki_run``, ``donki_recorder``.

A test names its scenario with ``@pytest.mark.donki(scenario="e-mixed")`` (or is one of
the tests ``--donki-scenario`` makes); ``donki_run`` runs it on the session broker while
recording, checks it and compares it with its golden recording. The golden recording is
written at teardown, and only if the test passed.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

__all__ = ["scenario_fixture", "runner_fixture", "run_fixture", "recorder_fixture", "marker_options", "RUN_PROPERTY",
           "CALL_REPORT"]

MARKER = "donki"
MARKER_KEYS = ("scenario", "record_mode", "length", "golden", "mode")
RUN_PROPERTY = "donki_run"  # user_properties key carrying a run's report to the controller (xdist)
CALL_REPORT = pytest.StashKey[pytest.TestReport]()


def marker_options(node: pytest.Item) -> dict[str, Any]:
    """The ``@pytest.mark.donki(...)`` keywords of a test (closest marker wins), validated."""
    from harness.errors import ConfigError

    marker = node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker else {}
    if marker and marker.args:
        options.setdefault("scenario", marker.args[0])
    unknown = sorted(set(options) - set(MARKER_KEYS))
    if unknown:
        raise ConfigError(f"{node.nodeid}: @pytest.mark.donki got unknown keyword(s) {unknown}; "
                          f"allowed: {', '.join(MARKER_KEYS)}")
    return options


def scenario_fixture() -> Callable[..., Any]:
    """A fixture giving the test's scenario, sized by ``length`` (marker > --donki-length)."""

    @pytest.fixture()
    def _scenario(request: pytest.FixtureRequest) -> Any:
        from harness.checked_run import sized_scenario
        from harness.scenarios import load_scenario
        from pytest_donki.settings import setting

        options = marker_options(request.node)
        ref = getattr(request, "param", None) or options.get("scenario")
        if ref is None:
            raise _no_scenario(request)
        scenario, golden_name = sized_scenario(load_scenario(_resolve_path(request, ref)),
                                               setting(request.config, "length", options.get("length")))
        request.node.stash[GOLDEN_NAME] = golden_name
        return scenario

    return _scenario


GOLDEN_NAME = pytest.StashKey[str]()


def _resolve_path(request: pytest.FixtureRequest, ref: Any) -> Any:
    """A relative TOML path is taken from the invocation directory, else from the rootdir."""
    text = str(ref)
    if not text.endswith(".toml") or os.path.isabs(text):
        return ref
    for base in (request.config.invocation_params.dir, request.config.rootpath):
        if (Path(base) / text).exists():
            return Path(base) / text
    return ref


def _store(config: pytest.Config, options: dict[str, Any]) -> Any:
    from harness.recording.golden import GoldenStore
    from pytest_donki.settings import setting

    root = Path(setting(config, "recordings"))
    root = root if root.is_absolute() else config.rootpath / root
    return GoldenStore(root, setting(config, "record_mode", options.get("record_mode")))


def _label(node: pytest.Item) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", node.nodeid).strip("-")[-120:]


def runner_fixture(broker: str = "donki_kafka") -> Callable[..., Any]:
    """A fixture giving ``run(scenario=None, *, before_run=None, length=None, golden=None,
    record_mode=None, mode=None)`` that runs, records and checks a scenario.

    ``scenario`` is a :class:`~harness.scenarios.Scenario`, a built-in name or a TOML path
    (default: the marker's). ``before_run(topics)`` is called once the run's topics exist,
    before the first trigger: start the consumer under test there. The topics stay until
    the test ends, so a consumer may also read them afterwards. Keywords left out come
    from ``@pytest.mark.donki(...)``, then the command line, ini file and environment.
    """

    @pytest.fixture()
    def _runner(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Any]]:
        runs: list[Any] = []

        def run(scenario: Any = None, *, before_run: Callable[[dict[str, str]], None] | None = None,
                **overrides: Any) -> Any:
            from harness.checked_run import run_checked
            from harness.errors import ConfigError

            unknown = sorted(set(overrides) - set(MARKER_KEYS))
            if unknown:
                raise ConfigError(f"donki_runner got unknown keyword(s) {unknown}; allowed: {', '.join(MARKER_KEYS)}")
            options = {**marker_options(request.node), **{k: v for k, v in overrides.items() if v is not None}}
            the_scenario, golden_name = _sized(request, scenario, options)
            store = None if options.get("golden") is False else _store(request.config, options)
            checked = run_checked(the_scenario, request.getfixturevalue(broker), tmp_path / f"donki-{len(runs)}",
                                  store=store, golden_name=golden_name, mode=options.get("mode", "process"),
                                  before_run=before_run, keep_topics=True)
            runs.append(checked)
            return checked

        yield run
        report = request.node.stash.get(CALL_REPORT, None)
        passed = bool(report is not None and report.passed)
        for checked in runs:
            checked.finish(passed=passed and checked.ok)
            _publish(request, checked)
            _delete_topics(request.getfixturevalue(broker), checked)

    return _runner


def run_fixture(runner: str = "donki_runner", scenario: str = "donki_scenario") -> Callable[..., Any]:
    """A fixture giving the :class:`~harness.checked_run.CheckedRun` of the test's scenario
    (``@pytest.mark.donki(scenario=...)``), run at setup by the ``runner`` fixture."""

    @pytest.fixture()
    def _run(request: pytest.FixtureRequest) -> Any:
        the_scenario = request.getfixturevalue(scenario)
        return request.getfixturevalue(runner)(the_scenario, length="as given")

    return _run


def _sized(request: pytest.FixtureRequest, scenario: Any, options: dict[str, Any]) -> tuple[Any, str]:
    """The scenario to run and its golden name; ``length="as given"`` keeps a sized one as it is."""
    from harness.checked_run import sized_scenario
    from harness.scenarios import Scenario, load_scenario
    from pytest_donki.settings import setting

    if isinstance(scenario, Scenario) and options.get("length") == "as given":
        return scenario, request.node.stash.get(GOLDEN_NAME, scenario.name)
    ref = scenario if scenario is not None else options.get("scenario")
    if ref is None:
        raise _no_scenario(request)
    loaded = ref if isinstance(ref, Scenario) else load_scenario(_resolve_path(request, ref))
    return sized_scenario(loaded, setting(request.config, "length", options.get("length")))


def _no_scenario(request: pytest.FixtureRequest) -> Exception:
    from harness.errors import ConfigError

    return ConfigError(f"{request.node.nodeid} uses a donki scenario but names none: mark it with "
                       "@pytest.mark.donki(scenario='e-mixed') (a built-in name or a TOML path)")


def _delete_topics(broker: Any, checked: Any) -> None:
    from harness.kafka import TopicAdmin

    TopicAdmin(broker.client_config).delete(list(checked.topics.values()))


def _publish(request: pytest.FixtureRequest, run: Any) -> None:
    """Hand the run's report to the terminal summary (via user_properties, so xdist works)."""
    from pytest_donki.settings import setting

    report = run.report()
    directory = setting(request.config, "report")
    if directory:
        from harness.reporting import write_report

        target = Path(directory)
        target = target if target.is_absolute() else request.config.invocation_params.dir / target
        report.extra["files"] = [str(p) for p in write_report(report, target, label=_label(request.node))]
    request.node.user_properties.append((RUN_PROPERTY, json.dumps(report.to_dict(), default=str)))


def recorder_fixture(broker: str = "donki_kafka") -> Callable[..., Any]:
    """A fixture giving ``record(topics, path=None, **options)``: a started recorder.

    ``options`` are those of :class:`~harness.recording.Recorder` (``start``,
    ``max_messages``, ``duration_s``...). Recorders still running at teardown are stopped,
    so their files are complete.
    """

    @pytest.fixture()
    def _recorder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Any]]:
        from harness.recording import Recorder

        started: list[Any] = []

        def record(topics: list[str] | str, path: str | Path | None = None, **options: Any) -> Any:
            kafka = request.getfixturevalue(broker)
            names = [topics] if isinstance(topics, str) else list(topics)
            target = Path(path) if path is not None else tmp_path / f"recording-{len(started)}.h5"
            recorder = Recorder(target, names, kafka.client_config, **options).start()
            started.append(recorder)
            return recorder

        yield record
        for recorder in started:
            recorder.stop()

    return _recorder
