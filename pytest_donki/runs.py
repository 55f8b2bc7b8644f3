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

__all__ = ["scenario_fixture", "run_fixture", "recorder_fixture", "marker_options", "RUN_PROPERTY", "CALL_REPORT"]

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
        from harness.errors import ConfigError
        from harness.scenarios import load_scenario
        from pytest_donki.settings import setting

        options = marker_options(request.node)
        ref = getattr(request, "param", None) or options.get("scenario")
        if ref is None:
            raise ConfigError(f"{request.node.nodeid} uses a donki scenario but names none: mark it with "
                              "@pytest.mark.donki(scenario='e-mixed') (a built-in name or a TOML path)")
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


def run_fixture(broker: str = "donki_kafka", scenario: str = "donki_scenario") -> Callable[..., Any]:
    """A fixture giving the :class:`~harness.checked_run.CheckedRun` of the test's scenario.

    The run is recorded under the test's ``tmp_path``; with ``--donki-report=DIR`` its JSON
    and plots are written there. ``golden=False`` in the marker disables the golden
    recording for the test.
    """

    @pytest.fixture()
    def _run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
        from harness.checked_run import run_checked

        options = marker_options(request.node)
        the_scenario = request.getfixturevalue(scenario)
        kafka = request.getfixturevalue(broker)
        store = None if options.get("golden") is False else _store(request.config, options)
        run = run_checked(the_scenario, kafka, tmp_path / "donki", store=store,
                          golden_name=request.node.stash.get(GOLDEN_NAME, the_scenario.name),
                          mode=options.get("mode", "process"))
        yield run
        report = request.node.stash.get(CALL_REPORT, None)
        run.finish(passed=bool(report is not None and report.passed and run.ok))
        _publish(request, run)

    return _run


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
