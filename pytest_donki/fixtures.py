"""The ready-made fixtures; build your own with the factories in :mod:`pytest_donki`.

``donki_recordings_dir`` and ``donki_kafka_security`` hold what a project may want to
change: override them in its ``conftest.py`` (as pytest-recording's ``vcr_cassette_dir``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pytest_donki.engine import require_engine
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
    topic_namespace_fixture,
)
from pytest_donki.settings import from_rootdir, settings_of


@pytest.fixture(scope="session")
def donki_recordings_dir(pytestconfig: pytest.Config) -> Path:
    """Where golden recordings live (--donki-recordings, relative to the rootdir); override to move them."""
    return from_rootdir(pytestconfig, settings_of(pytestconfig).recordings)


@pytest.fixture(scope="session")
def donki_kafka_security() -> dict[str, Any]:
    """Client security settings for the session's cluster (default: ``DONKI_KAFKA_SECURITY_*``,
    ``DONKI_KAFKA_SASL_*``, ``DONKI_KAFKA_SSL_*``); override to give your own."""
    require_engine()
    from harness.kafka.external import security_from_env

    return security_from_env(os.environ)


donki_kafka = kafka_broker_fixture(scope="session")
donki_kafka.__doc__ = "The session's Kafka cluster (provider from --donki-kafka / DONKI_KAFKA / donki_kafka)."

donki_topics = topic_namespace_fixture("donki_kafka")
donki_topics.__doc__ = "A topic namespace private to this test; its topics are deleted afterwards."

donki_director = director_fixture()
donki_director.__doc__ = "A started Director (an Ensemble) for this test; players it started stop after it."

donki_player = player_factory_fixture("donki_director", "donki_kafka")
donki_player.__doc__ = "make(name, kind='noop', priority=0, divisor=1, mode='process', ...) starts a player."

donki_sized_scenario = sized_scenario_fixture()
donki_sized_scenario.__doc__ = "The test's scenario at its length, and the name of its golden recording."

donki_scenario = scenario_fixture()
donki_scenario.__doc__ = "The test's scenario (@pytest.mark.donki(scenario=...)), at --donki-length."

donki_runner = runner_fixture("donki_kafka")
donki_runner.__doc__ = "run(scenario=None, before_run=None, ...) runs, records and checks a scenario."

donki_run = run_fixture("donki_runner", "donki_sized_scenario")
donki_run.__doc__ = "The test's scenario run, recorded and checked (a harness.runs.RunOutcome)."

donki_recorder = recorder_fixture("donki_kafka")
donki_recorder.__doc__ = "record(topics, path=None, **options) starts a recorder, stopped at teardown."

donki_replay = replay_fixture("donki_kafka", "donki_topics")
donki_replay.__doc__ = ("replay(recording, speed=1.0, loops=1, retime=True, topic_map=None) replays a golden "
                        "recording (by name) or a file into this test's topics; .wait_consumed(group_id) and more.")
