"""The ready-made fixtures: ``donki_kafka`` (session broker), ``donki_topics`` (per test)."""

from __future__ import annotations

from pytest_donki.factories import kafka_broker_fixture, topic_namespace_fixture

donki_kafka = kafka_broker_fixture(scope="session")
donki_kafka.__doc__ = "The session's Kafka cluster (provider from --donki-kafka / donki_kafka / DONKI_KAFKA)."

donki_topics = topic_namespace_fixture("donki_kafka")
donki_topics.__doc__ = "A topic namespace private to this test; its topics are deleted afterwards."
