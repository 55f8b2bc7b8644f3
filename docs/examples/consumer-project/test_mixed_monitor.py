"""Testing MixedMonitor against pytest-donki's e-mixed stream (f144 + ad00 + da00 + x5f2 at 10 Hz)."""

import pytest

from harness.scenarios import Scenario, load_scenario
from mixed_monitor import MixedMonitor


@pytest.fixture()
def monitor(donki_kafka):
    service = MixedMonitor(donki_kafka.bootstrap_servers)
    yield service
    service.stop()


@pytest.mark.donki(scenario="e-mixed", golden=False)
def test_monitor_sees_every_message_of_every_schema(donki_runner, monitor):
    # start the service once the run's topics exist, before the first trigger
    run = donki_runner(before_run=lambda topics: monitor.start(topics["donki_mixed"]))
    run.assert_ok()  # the stream itself was complete, in order and byte-exact

    produced = run.summary.stream("e-mixed").messages
    assert monitor.wait_for(produced, timeout_s=30)
    triggers = run.scenario.triggers
    assert monitor.counts == {"f144": triggers, "ad00": triggers, "da00": triggers, "x5f2": triggers}
    assert all(290.0 < t < 300.0 for t in monitor.temperatures)  # kelvin: a sample near room temperature
    assert monitor.last_status is not None


def with_lost_message(scenario: Scenario, seq: int) -> Scenario:
    """The same scenario, but message ``seq`` of its stream never reaches Kafka."""
    data = scenario.to_dict()
    data["players"][0]["faults"] = {"drop": [seq]}
    return Scenario.from_dict(data, f"{scenario.name} with message {seq} lost")


def test_a_lost_message_is_visible_to_the_service_and_named_by_the_harness(donki_runner, monitor):
    lossy = with_lost_message(load_scenario("e-mixed"), seq=5)
    run = donki_runner(lossy, golden=False, before_run=lambda topics: monitor.start(topics["donki_mixed"]))

    assert not run.ok
    assert "seq 5 missing" in run.check("ordering").report()
    produced = run.summary.stream("e-mixed").messages
    assert not monitor.wait_for(produced, timeout_s=3)  # one message never arrives
    assert sum(monitor.counts.values()) == produced - 1
