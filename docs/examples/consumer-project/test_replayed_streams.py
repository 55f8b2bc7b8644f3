"""Testing MixedMonitor against a golden recording replayed into the test's own topics."""

from mixed_monitor import MixedMonitor


def test_monitor_consumes_every_message_of_the_replayed_golden_stream(donki_replay, donki_kafka):
    replay = donki_replay("e-mixed", speed=None)  # the golden e-mixed stream, as fast as Kafka takes it
    monitor = MixedMonitor(donki_kafka.bootstrap_servers).start(replay.topic("e-mixed"), group_id="monitor")
    try:
        replay.wait()
        assert replay.wait_consumed("monitor", timeout_s=30)  # the group committed the end of every topic
        assert sum(monitor.counts.values()) == replay.messages
        assert set(monitor.counts) == {"f144", "ad00", "da00", "x5f2"}
    finally:
        monitor.stop()
