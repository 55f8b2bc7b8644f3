"""The ready-made fixtures; build your own with the factories in :mod:`pytest_donki`."""

from __future__ import annotations

from pytest_donki.factories import kafka_broker_fixture, topic_namespace_fixture
from pytest_donki.filewriter import donki_file_writer as donki_file_writer
from pytest_donki.orchestra import director_fixture, player_factory_fixture
from pytest_donki.runs import recorder_fixture, run_fixture, runner_fixture, scenario_fixture

donki_kafka = kafka_broker_fixture(scope="session")
donki_kafka.__doc__ = "The session's Kafka cluster (provider from --donki-kafka / donki_kafka / DONKI_KAFKA)."

donki_topics = topic_namespace_fixture("donki_kafka")
donki_topics.__doc__ = "A topic namespace private to this test; its topics are deleted afterwards."

donki_director = director_fixture()
donki_director.__doc__ = "A started Director (an Ensemble) for this test; players it started stop after it."

donki_player = player_factory_fixture("donki_director", "donki_kafka")
donki_player.__doc__ = "make(name, kind='noop', priority=0, divisor=1, mode='process', ...) starts a player."

donki_scenario = scenario_fixture()
donki_scenario.__doc__ = "The test's scenario (@pytest.mark.donki(scenario=...)), at --donki-length."

donki_runner = runner_fixture("donki_kafka")
donki_runner.__doc__ = "run(scenario=None, before_run=None, ...) runs, records and checks a scenario."

donki_run = run_fixture("donki_runner", "donki_scenario")
donki_run.__doc__ = "The test's scenario run, recorded and checked (a harness.checked_run.CheckedRun)."

donki_recorder = recorder_fixture("donki_kafka")
donki_recorder.__doc__ = "record(topics, path=None, **options) starts a recorder, stopped at teardown."
