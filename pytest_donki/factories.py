"""Fixture factories, so other projects can build their own donki fixtures.

Example (in a consumer project's ``conftest.py``)::

    from pytest_donki import kafka_broker_fixture, topic_namespace_fixture

    three_node_kafka = kafka_broker_fixture(provider="local", nodes=3)
    my_topics = topic_namespace_fixture("three_node_kafka")
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator

import pytest

__all__ = ["kafka_broker_fixture", "topic_namespace_fixture", "start_broker", "check_session_brokers"]

#: fixture name -> the broker it started, for the per-test check that it still serves
SESSION_BROKERS = pytest.StashKey[dict]()


def start_broker(config: pytest.Config, *, provider: str | None = None, bootstrap: str | None = None,
                 nodes: int | None = None, **local_options: Any):
    """Build and start the broker the configuration asks for (arguments win)."""
    from harness.kafka import make_broker
    from pytest_donki.settings import setting

    kind = setting(config, "kafka", provider)
    address = setting(config, "bootstrap", bootstrap)
    count = setting(config, "kafka_nodes", nodes)
    broker = make_broker(kind, bootstrap=address, nodes=count, **local_options)
    return broker.start()


def kafka_broker_fixture(scope: str = "session", **options: Any) -> Callable[..., Any]:
    """A fixture that starts a broker for ``scope`` and stops it afterwards.

    ``options`` are ``provider``, ``bootstrap``, ``nodes`` and local-provider keywords
    (``kafka_home``, ``version``, ``overrides``, ``heap``); unset ones come from the
    command line, ini file or environment.
    """

    @pytest.fixture(scope=scope)
    def _broker(request: pytest.FixtureRequest) -> Iterator[Any]:
        broker = start_broker(request.config, **options)
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


def _label(request: pytest.FixtureRequest) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{worker}-{request.node.name}" if worker else request.node.name


def topic_namespace_fixture(broker_fixture: str = "donki_kafka", scope: str = "function") -> Callable[..., Any]:
    """A fixture giving a :class:`~harness.kafka.TopicNamespace` private to each test.

    Its topics are deleted when the test ends; the names include the xdist worker, so
    parallel workers never share a topic.
    """

    @pytest.fixture(scope=scope)
    def _topics(request: pytest.FixtureRequest) -> Iterator[Any]:
        from harness.kafka import TopicAdmin, TopicNamespace

        broker = request.getfixturevalue(broker_fixture)
        broker.ensure_serving()  # the broker is looked up here, so pytest_runtest_setup cannot see it
        namespace = TopicNamespace(TopicAdmin(broker.client_config), _label(request))
        try:
            yield namespace
        finally:
            namespace.cleanup()

    return _topics
