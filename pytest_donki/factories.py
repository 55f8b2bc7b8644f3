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
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Literal, Mapping

import pytest

from pytest_donki.marker import marker_options, no_scenario, runner_options
from pytest_donki.publish import publish_run
from pytest_donki.settings import pick, settings_of

if TYPE_CHECKING:
    from harness.kafka import Broker, TopicNamespace
    from harness.orchestra import Ensemble, PlayerHandle
    from harness.recording import Recorder
    from harness.runs import RunOutcome, SizedScenario
    from harness.scenarios import Scenario

__all__ = [
    "CALL_REPORT",
    "check_session_brokers",
    "director_fixture",
    "kafka_broker_fixture",
    "player_factory_fixture",
    "recorder_fixture",
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
        brokers[request.fixturename] = broker
        try:
            yield broker
        finally:
            brokers.pop(request.fixturename, None)
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

        ensemble = request.getfixturevalue(director)

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
        return request.getfixturevalue(sized).scenario

    return _scenario


def _size(request: pytest.FixtureRequest, ref: object, options: Mapping[str, Any]) -> SizedScenario:
    from harness.runs import size_scenario
    from harness.scenarios import Scenario, load_scenario

    loaded = ref if isinstance(ref, Scenario) else load_scenario(_scenario_path(request, ref))
    return size_scenario(loaded, pick(options.get("length"), settings_of(request.config).length))


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
    record_mode=None, mode=None)`` that runs, records and checks a scenario.

    ``scenario`` is a :class:`~harness.scenarios.Scenario`, a :class:`~harness.runs.SizedScenario`,
    a built-in name or a TOML path (default: the marker's). ``before_run(topics)`` is called
    once the run's topics exist, before the first trigger: start the consumer under test
    there. The topics stay until the test ends, so a consumer may also read them afterwards.
    Keywords left out come from ``@pytest.mark.donki(...)``, then the session's settings.
    The golden recording is written at teardown, and only if the test passed.
    """

    @pytest.fixture()
    def _runner(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., RunOutcome]]:
        from harness.runs import SizedScenario

        outcomes: list[RunOutcome] = []

        def run(scenario: object = None, *, before_run: Callable[[dict[str, str]], None] | None = None,
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
                 before_run: Callable[[dict[str, str]], None] | None) -> RunOutcome:
            from harness.recording.golden.store import GoldenStore
            from harness.runs import GoldenRequest, RunRequest, run as run_pipeline

            golden = None
            if options.get("golden") is not False:
                mode = pick(options.get("record_mode"), settings_of(request.config).record_mode)
                golden = GoldenRequest(GoldenStore(request.getfixturevalue(recordings), mode), sized.golden_name)
            return run_pipeline(RunRequest(sized, request.getfixturevalue(broker), workdir=workdir, golden=golden,
                                           mode=options.get("mode", "process"), before_run=before_run,
                                           keep_topics=True))

        yield run
        report = request.node.stash.get(CALL_REPORT, None)
        passed = bool(report is not None and report.passed)
        for outcome in outcomes:
            outcome.finish(passed=passed and outcome.ok)
            publish_run(request, outcome)
            outcome.close()

    return _runner


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
