"""Every fixture factory of pytest-donki, so other projects can build their own donki fixtures.

Example (in a consumer project's ``conftest.py``)::

    from pytest_donki import kafka_broker_fixture, topic_namespace_fixture

    three_node_kafka = kafka_broker_fixture(provider="local", nodes=3)
    my_topics = topic_namespace_fixture("three_node_kafka")

Factory arguments win over the session's settings (command line > environment > ini >
default), which the plugin reads once at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from pytest_donki.engine import require_engine
from pytest_donki.marker import marker_options, no_scenario, runner_options
from pytest_donki.publish import publish_run
from pytest_donki.settings import pick, settings_of

if TYPE_CHECKING:
    from harness.filewriter import FileWriterService
    from harness.kafka import Broker, TopicNamespace
    from harness.orchestra import Ensemble, PlayerHandle
    from harness.recording import Recorder
    from harness.recording.replay.into_topics import ReplaySession
    from harness.runs import GoldenRequest, RunOutcome, SizedScenario
    from harness.scenarios import Scenario

__all__ = [
    "CALL_REPORT",
    "check_session_brokers",
    "director_fixture",
    "file_writer_fixture",
    "kafka_broker_fixture",
    "player_factory_fixture",
    "recorder_fixture",
    "replay_fixture",
    "run_fixture",
    "runner_fixture",
    "scenario_fixture",
    "sized_scenario_fixture",
    "start_broker",
    "topic_namespace_fixture",
]

ScopeName = Literal["session", "package", "module", "class", "function"]
#: the call-phase report of a test, so teardown knows whether it passed (golden recordings)
CALL_REPORT = pytest.StashKey[pytest.TestReport]()
#: fixture name -> the broker it started, for the per-test check that it still serves
SESSION_BROKERS = pytest.StashKey[dict[str, "Broker"]]()


def start_broker(config: pytest.Config, *, provider: str | None = None, bootstrap: str | None = None,
                 nodes: int | None = None, security: Mapping[str, Any] | None = None,
                 **local_options: Any) -> Broker:
    """Build and start the broker the configuration asks for (arguments win)."""
    from harness.kafka import make_broker

    settings = settings_of(config)
    broker = make_broker(pick(provider, settings.kafka), bootstrap=pick(bootstrap, settings.bootstrap),
                         nodes=pick(nodes, settings.kafka_nodes), security=security, **local_options)
    return broker.start()


def kafka_broker_fixture(scope: ScopeName = "session", **options: Any) -> Callable[..., Any]:
    """A fixture that starts a broker for ``scope`` and stops it afterwards.

    ``options`` are ``provider``, ``bootstrap``, ``nodes``, ``security`` and local-provider
    keywords (``kafka_home``, ``version``, ``overrides``, ``heap``); unset ones come from
    the session's settings, and ``security`` from the ``donki_kafka_security`` fixture.
    """

    @pytest.fixture(scope=scope)
    def _broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
        security = options.get("security")
        if security is None:
            security = request.getfixturevalue("donki_kafka_security")
        broker = start_broker(request.config, **{**options, "security": security})
        brokers = request.config.stash.setdefault(SESSION_BROKERS, {})
        name = request.fixturename or "donki_kafka"
        brokers[name] = broker
        try:
            yield broker
        finally:
            brokers.pop(name, None)
            broker.stop()

    return _broker


def check_session_brokers(item: pytest.Item) -> None:
    """Before a test that uses a started broker fixture: does that broker still answer?

    A dead local cluster is started again; any other lost cluster raises the same
    one-line :class:`~harness.errors.BrokerLostError` in this and every later test, at
    once, instead of each test waiting out its clients' timeouts.
    """
    for name, broker in item.config.stash.get(SESSION_BROKERS, {}).items():
        if name in getattr(item, "fixturenames", ()):
            broker.ensure_serving()


def _worker_label(request: pytest.FixtureRequest) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{worker}-{request.node.name}" if worker else request.node.name


def topic_namespace_fixture(broker_fixture: str = "donki_kafka", scope: ScopeName = "function") -> Callable[..., Any]:
    """A fixture giving a :class:`~harness.kafka.TopicNamespace` private to each test.

    Its topics are deleted when the test ends; the names include the xdist worker, so
    parallel workers never share a topic.
    """

    @pytest.fixture(scope=scope)
    def _topics(request: pytest.FixtureRequest) -> Iterator[TopicNamespace]:
        require_engine()
        from harness.kafka import TopicAdmin, TopicNamespace

        broker = request.getfixturevalue(broker_fixture)
        broker.ensure_serving()  # the broker is looked up here, so pytest_runtest_setup cannot see it
        namespace = TopicNamespace(TopicAdmin(broker.client_config), _worker_label(request))
        try:
            yield namespace
        finally:
            namespace.cleanup()

    return _topics


def director_fixture(scope: ScopeName = "function", **ensemble_options: Any) -> Callable[..., Any]:
    """A fixture giving a started :class:`~harness.orchestra.Ensemble` (director + players it starts).

    ``ensemble_options`` go to ``Ensemble`` (``heartbeat_s``, ``liveness``, ``curve_server``...).
    Errors its players report are raised in the test that ran them; take them with
    ``.take_player_errors()`` to inspect them instead.
    """

    @pytest.fixture(scope=scope)
    def _director(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ensemble]:
        require_engine()
        from harness.orchestra import Ensemble

        log_dir = tmp_path_factory.mktemp("donki-players")
        with Ensemble(log_dir=log_dir, **ensemble_options) as ensemble:
            yield ensemble

    return _director


def player_factory_fixture(director: str = "donki_director", broker: str = "donki_kafka") -> Callable[..., Any]:
    """A fixture giving ``make(name, kind="noop", **config)`` that starts players on ``director``.

    Keywords are those of :class:`~harness.orchestra.PlayerConfig` plus ``mode``
    (``"process"``, default, or ``"thread"``), ``action`` (an object, thread mode only) and
    ``wait`` (wait for registration, default true). A player given a ``topic`` but no
    ``bootstrap`` publishes to the ``broker`` fixture's cluster.
    """

    @pytest.fixture()
    def _make_player(request: pytest.FixtureRequest) -> Callable[..., PlayerHandle]:
        from harness.orchestra import PlayerConfig

        ensemble: Ensemble = request.getfixturevalue(director)

        def make(name: str, kind: str = "noop", *, mode: str = "process", action: object = None,
                 wait: bool = True, **config: Any) -> PlayerHandle:
            if config.get("topic") and not config.get("bootstrap"):
                config["bootstrap"] = request.getfixturevalue(broker).bootstrap_servers
            if "params" in config:
                config["params"] = dict(config["params"])
            return ensemble.add_player(PlayerConfig(name, kind, **config), mode, action, wait=wait)

        return make

    return _make_player


def sized_scenario_fixture() -> Callable[..., Any]:
    """A fixture giving the test's :class:`~harness.runs.SizedScenario`: its scenario
    (``--donki-scenario`` parameter or ``@pytest.mark.donki(scenario=...)``) at its length
    (marker ``length`` > ``--donki-length``), and the name of its golden recording."""

    @pytest.fixture()
    def _sized(request: pytest.FixtureRequest) -> SizedScenario:
        require_engine()
        options = marker_options(request.node)
        ref = getattr(request, "param", None) or options.get("scenario")
        if ref is None:
            raise no_scenario(request.node.nodeid)
        return _size(request, ref, options)

    return _sized


def scenario_fixture(sized: str = "donki_sized_scenario") -> Callable[..., Any]:
    """A fixture giving the test's :class:`~harness.scenarios.Scenario` at its length."""

    @pytest.fixture()
    def _scenario(request: pytest.FixtureRequest) -> Scenario:
        value: SizedScenario = request.getfixturevalue(sized)
        return value.scenario

    return _scenario


def _size(request: pytest.FixtureRequest, ref: object, options: Mapping[str, Any]) -> SizedScenario:
    """The scenario at its length; a length of its own compares with the plain golden recording where
    the store has no golden of that length (see :func:`harness.runs.size_scenario`)."""
    from harness.recording.golden.store import GoldenStore
    from harness.runs import size_scenario
    from harness.scenarios import Scenario, load_scenario

    loaded = ref if isinstance(ref, Scenario) else load_scenario(_scenario_path(request, ref))
    goldens = None
    if _golden_wanted(request, options):
        goldens = GoldenStore(request.getfixturevalue("donki_recordings_dir"))
    return size_scenario(loaded, pick(options.get("length"), settings_of(request.config).length), goldens=goldens)


def _golden_wanted(request: pytest.FixtureRequest, options: Mapping[str, Any]) -> bool:
    """Whether this run has a golden step: not with ``--donki-golden=off`` nor ``golden=False``."""
    from harness.recording.golden.settings import GOLDEN_OFF

    return settings_of(request.config).golden != GOLDEN_OFF and options.get("golden", True) is not False


def _scenario_path(request: pytest.FixtureRequest, ref: object) -> str | Path:
    """A relative TOML path is taken from the invocation directory, else from the rootdir."""
    text = str(ref)
    if not text.endswith(".toml") or os.path.isabs(text):
        return text
    for base in (request.config.invocation_params.dir, request.config.rootpath):
        if (Path(base) / text).exists():
            return Path(base) / text
    return text


def runner_fixture(broker: str = "donki_kafka", recordings: str = "donki_recordings_dir") -> Callable[..., Any]:
    """A fixture giving ``run(scenario=None, *, before_run=None, length=None, golden=None,
    record_mode=None, mode=None, source=None, checks=None)`` that runs, records and checks a scenario.

    ``scenario`` is a :class:`~harness.scenarios.Scenario`, a :class:`~harness.runs.SizedScenario`,
    a built-in name or a TOML path (default: the marker's). ``before_run(topics)`` is called
    once the run's topics exist, before the first trigger: start the consumer under test
    there and return it; it is the outcome's ``started``. The topics stay until the test
    ends, so a consumer may also read them afterwards. ``golden`` is ``False`` (none), ``True``
    (the scenario's own) or a golden recording's name; ``source="golden"`` replays the golden
    recording instead of running players; ``checks={"rates": {"tolerance": 0.2}, "views": False}``
    turns checks off or gives their options (see docs/checks.md).
    Keywords left out come from ``@pytest.mark.donki(...)``, then the session's settings.
    The golden recording is written at teardown, and only if the test passed.
    """

    @pytest.fixture()
    def _runner(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., RunOutcome]]:
        require_engine()
        from harness.runs import SizedScenario

        outcomes: list[RunOutcome] = []

        def run(scenario: object = None, *, before_run: Callable[[dict[str, str]], object] | None = None,
                **overrides: Any) -> RunOutcome:
            options = runner_options(request.node, overrides)
            ref = scenario if scenario is not None else options.get("scenario")
            if ref is None:
                raise no_scenario(request.node.nodeid)
            sized = ref if isinstance(ref, SizedScenario) else _size(request, ref, options)
            outcome = _run(request, sized, options, tmp_path / f"donki-{len(outcomes)}", before_run)
            outcomes.append(outcome)
            return outcome

        def _run(request: pytest.FixtureRequest, sized: SizedScenario, options: Mapping[str, Any], workdir: Path,
                 before_run: Callable[[dict[str, str]], object] | None) -> RunOutcome:
            from harness.checks.config import ChecksConfig
            from harness.runs import RunRequest, RunSource
            from harness.runs import run as run_pipeline

            where = request.node.nodeid
            source = RunSource.parse(options.get("source", RunSource.LIVE), f"{where}: source")
            checks = ChecksConfig.parse(options.get("checks"), f"{where}: checks=")
            golden = _golden_request(request, sized, options, recordings) if checks.enabled("golden") else None
            kafka = request.getfixturevalue(broker)
            kafka.ensure_serving()  # a session broker lost in an earlier test: the same one line at once
            return run_pipeline(RunRequest(sized, kafka, workdir=workdir, golden=golden,
                                           checks=checks, mode=options.get("mode", "process"),
                                           before_run=before_run, keep_topics=True, source=source))

        yield run
        report = request.node.stash.get(CALL_REPORT, None)
        passed = bool(report is not None and report.passed)
        for outcome in outcomes:
            outcome.finish(passed=passed and outcome.ok)
            publish_run(request, outcome)
            outcome.close()

    return _runner


def _golden_request(request: pytest.FixtureRequest, sized: SizedScenario, options: Mapping[str, Any],
                    recordings: str) -> GoldenRequest | None:
    """The golden recording a run uses: none (``golden=False``), its own, or one named by the test."""
    from harness.errors import ConfigError
    from harness.recording.golden.store import GoldenStore
    from harness.runs import GoldenRequest

    choice = options.get("golden", True)
    if not _golden_wanted(request, options):
        return None
    if choice is not True and not (isinstance(choice, str) and choice.strip()):
        raise ConfigError(f"{request.node.nodeid}: golden={choice!r}; expected True, False or the name of a "
                          "golden recording (e.g. golden='e-mixed')")
    name = sized.golden_name if choice is True else str(choice)
    mode = pick(options.get("record_mode"), settings_of(request.config).record_mode)
    return GoldenRequest(GoldenStore(request.getfixturevalue(recordings), mode), name)


def run_fixture(runner: str = "donki_runner", sized: str = "donki_sized_scenario") -> Callable[..., Any]:
    """A fixture giving the :class:`~harness.runs.RunOutcome` of the test's scenario, run at
    setup by the ``runner`` fixture."""

    @pytest.fixture()
    def _run(request: pytest.FixtureRequest) -> RunOutcome:
        outcome: RunOutcome = request.getfixturevalue(runner)(request.getfixturevalue(sized))
        return outcome

    return _run


def recorder_fixture(broker: str = "donki_kafka") -> Callable[..., Any]:
    """A fixture giving ``record(topics, path=None, **options)``: a started recorder.

    ``options`` are those of :class:`~harness.recording.Recorder` (``start``,
    ``max_messages``, ``duration_s``...). Recorders still running at teardown are stopped,
    so their files are complete.
    """

    @pytest.fixture()
    def _recorder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Recorder]]:
        require_engine()
        from harness.recording import Recorder

        started: list[Recorder] = []

        def record(topics: list[str] | str, path: str | Path | None = None, **options: Any) -> Recorder:
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


def replay_fixture(broker: str = "donki_kafka", topics: str = "donki_topics",
                   recordings: str = "donki_recordings_dir") -> Callable[..., Any]:
    """A fixture giving ``replay(recording, *, speed=1.0, loops=1, retime=True, topic_map=None)``.

    ``recording`` is a golden recording's name (``"e-mixed"``: the project's recordings
    directory, else the packaged built-ins) or the path of a recording file. It is replayed
    into this test's topics (named as the recording names them, inside the test's
    namespace), retimed to now unless ``retime=False``; ``speed`` 1 keeps the recorded pace,
    ``None`` sends as fast as possible; ``loops`` 0 repeats until the test ends. The
    :class:`~harness.recording.replay.into_topics.ReplaySession` returned has the topic per
    stream (``.topic("e-mixed")``), ``.messages``, ``.wait()`` and
    ``.wait_consumed(group_id, timeout_s)``. Replays still running at teardown are stopped.
    """

    @pytest.fixture()
    def _replay(request: pytest.FixtureRequest) -> Iterator[Callable[..., ReplaySession]]:
        require_engine()
        from harness.recording.replay.into_topics import replay_into

        sessions: list[ReplaySession] = []

        def replay(recording: str | Path, *, speed: float | None = 1.0, loops: int = 1, retime: bool = True,
                   topic_map: Mapping[str, str] | None = None) -> ReplaySession:
            path = _recording_path(request, recording, recordings)
            kafka = request.getfixturevalue(broker)
            session = replay_into(path, kafka.client_config, request.getfixturevalue(topics), speed=speed,
                                  loops=loops, retime=retime, topic_map=topic_map)
            sessions.append(session)
            return session

        yield replay
        for session in sessions:
            session.stop()

    return _replay


def _recording_path(request: pytest.FixtureRequest, recording: str | Path, recordings: str) -> Path:
    """A recording file given by path, or a golden recording given by name."""
    from harness.recording.golden.store import GoldenStore

    given = Path(recording)
    if given.suffix == ".h5" or given.is_absolute():
        for base in (Path.cwd(), request.config.invocation_params.dir, request.config.rootpath):
            if (base / given).is_file():
                return base / given
        from harness.errors import RecordingError

        raise RecordingError(f"recording {recording}: no such file (looked in the working, invocation and root "
                             "directories); give the path of an .h5 recording or the name of a golden recording")
    return GoldenStore(request.getfixturevalue(recordings)).plan(str(recording)).golden_path


def file_writer_fixture(kafka_fixture: str = "donki_kafka") -> Callable[..., Any]:
    """A fixture giving ``start(job_pool_topic, output_dir=None, **settings)``: file-writer doubles.

    Each :class:`~harness.filewriter.FileWriterService` speaks kafka-to-nexus's command
    protocol against the ``kafka_fixture`` cluster; every double a test started is stopped
    at its teardown (jobs still running end with a wrdn error).
    """

    @pytest.fixture
    def donki_file_writer(request: pytest.FixtureRequest,
                          tmp_path: Path) -> Iterator[Callable[..., FileWriterService]]:
        require_engine()
        from harness.filewriter import FileWriterService, WriterSettings

        kafka = request.getfixturevalue(kafka_fixture)
        started: list[FileWriterService] = []

        def start(job_pool_topic: str, output_dir: Path | None = None, **settings: Any) -> FileWriterService:
            chosen = WriterSettings(job_pool_topic, Path(output_dir or tmp_path), **settings)
            service = FileWriterService(kafka.client_config, chosen).start()
            started.append(service)
            return service

        yield start
        for service in reversed(started):
            service.stop()

    return donki_file_writer
