"""Topic admin helpers and per-test namespaces against the real broker."""

from __future__ import annotations

import pytest

from harness.errors import TopicError
from harness.kafka import TopicAdmin, TopicNamespace, TopicSpec


@pytest.fixture()
def admin(donki_kafka):
    return TopicAdmin(donki_kafka.client_config)


def _config(client_config, topic, key):
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient(dict(client_config))
    [future] = admin.describe_configs([ConfigResource("topic", topic)]).values()
    return future.result(timeout=30)[key].value


def test_create_with_partitions_and_configs_then_delete(admin, donki_kafka):
    name = "donki-admin-test.dream_detector"
    admin.create([TopicSpec(name, partitions=4, config={"retention.ms": "3600000"})])
    try:
        assert admin.partitions(name) == 4
        assert _config(donki_kafka.client_config, name, "retention.ms") == "3600000"
        assert _config(donki_kafka.client_config, name, "max.message.bytes") is not None
    finally:
        admin.delete([name])
    with pytest.raises(TopicError, match="does not exist"):
        admin.partitions(name)


def test_creating_an_existing_topic_is_an_error_unless_allowed(admin):
    name = "donki-admin-test.twice"
    admin.create([TopicSpec(name)])
    try:
        with pytest.raises(TopicError, match=f"could not create topic '{name}'"):
            admin.create([TopicSpec(name)])
        admin.create([TopicSpec(name)], exist_ok=True)
    finally:
        admin.delete([name])


@pytest.mark.parametrize("bad", ["", "has space", "x" * 250, ".."])
def test_invalid_topic_names_are_refused(bad):
    with pytest.raises(TopicError, match="not valid"):
        TopicSpec(bad)


def test_invalid_partition_count_is_refused():
    with pytest.raises(TopicError, match="partitions=0"):
        TopicSpec("ok", partitions=0)


def test_namespaces_are_private_and_clean_up_after_themselves(admin):
    first, second = TopicNamespace(admin, "test a"), TopicNamespace(admin, "test a")
    assert first.prefix != second.prefix
    a = first.create("loki_detector", partitions=2)
    b = second.create("loki_detector")
    assert a != b and a.endswith(".loki_detector") and " " not in a
    assert {a, b} <= set(admin.list())
    first.cleanup()
    second.cleanup()
    remaining = set(admin.list())
    assert a not in remaining and b not in remaining


def test_the_fixture_namespace_includes_the_test_name(donki_topics):
    assert "test_the_fixture_namespace" in donki_topics.prefix
