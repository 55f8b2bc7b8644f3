"""pytest-donki: the pytest plugin of the donki record-replay harness.

The plugin only wires the engine (:mod:`harness`) into pytest: options and ini keys,
fixtures and their factories, markers and reporting. Every factory is exported here.
"""

from importlib.metadata import version as _version

from pytest_donki.factories import (
    director_fixture,
    kafka_broker_fixture,
    player_factory_fixture,
    recorder_fixture,
    replay_fixture,
    run_fixture,
    runner_fixture,
    scenario_fixture,
    sized_scenario_fixture,
    start_broker,
    topic_namespace_fixture,
)

__version__ = _version("pytest-donki")

__all__ = [
    "__version__",
    "director_fixture",
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
