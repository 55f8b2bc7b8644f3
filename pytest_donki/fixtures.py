"""The ready-made fixtures; build your own with the factories in :mod:`pytest_donki`."""

from __future__ import annotations

from pytest_donki.factories import kafka_broker_fixture, topic_namespace_fixture
from pytest_donki.orchestra import director_fixture, player_factory_fixture

donki_kafka = kafka_broker_fixture(scope="session")
donki_kafka.__doc__ = "The session's Kafka cluster (provider from --donki-kafka / donki_kafka / DONKI_KAFKA)."

donki_topics = topic_namespace_fixture("donki_kafka")
donki_topics.__doc__ = "A topic namespace private to this test; its topics are deleted afterwards."

donki_director = director_fixture()
donki_director.__doc__ = "A started Director (an Ensemble) for this test; players it started stop after it."

donki_player = player_factory_fixture("donki_director", "donki_kafka")
donki_player.__doc__ = "make(name, kind='noop', priority=0, divisor=1, mode='process', ...) starts a player."
