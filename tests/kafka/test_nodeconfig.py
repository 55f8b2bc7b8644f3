"""Broker settings for the local KRaft cluster (pure functions)."""

from harness.kafka.nodeconfig import NodeAddress, node_properties, render_properties


def _cluster(n):
    return [NodeAddress(i + 1, 9000 + 2 * i, 9001 + 2 * i) for i in range(n)]


def test_single_node_follows_ess_habits():
    cluster = _cluster(1)
    props = node_properties(cluster[0], cluster, "/tmp/x")
    assert props["auto.create.topics.enable"] == "false"
    assert int(props["message.max.bytes"]) >= 100 * 1024 * 1024
    assert int(props["socket.request.max.bytes"]) > int(props["message.max.bytes"])
    assert props["log.retention.ms"] == "-1" and props["log.retention.bytes"] == "-1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9001"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9000,CONTROLLER://127.0.0.1:9001"
    assert props["default.replication.factor"] == "1"


def test_three_nodes_replicate_three_ways_with_min_isr_two():
    cluster = _cluster(3)
    props = node_properties(cluster[1], cluster, "/tmp/x")
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9001,2@127.0.0.1:9003,3@127.0.0.1:9005"
    assert props["default.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props["offsets.topic.replication.factor"] == "3"


def test_overrides_win_and_render_as_properties():
    cluster = _cluster(1)
    props = node_properties(cluster[0], cluster, "C:\\data", {"num.partitions": "4"})
    text = render_properties(props)
    assert "num.partitions=4\n" in text
    assert "log.dirs=C:\\\\data\n" in text
