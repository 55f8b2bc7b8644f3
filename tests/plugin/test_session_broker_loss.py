"""A session broker that dies mid-session: later tests fail at once with one line, or the local one comes back."""

from __future__ import annotations

import time

import pytest

from harness.kafka import LocalKafka

KILLING_TESTS = """
import os, signal

def test_a_kills_the_broker(donki_kafka):
    {kill}

def test_b_uses_it_afterwards(donki_kafka, donki_topics):
    from harness.kafka import make_producer
    topic = donki_topics.create("loki_after")
    producer = make_producer(donki_kafka.client_config)
    producer.produce(topic, b"x")
    assert producer.flush(30) == 0

def test_c_uses_it_too(donki_topics):
    donki_topics.create("loki_again")
"""


@pytest.fixture
def own_kafka():
    # started before pytester changes the environment (HOME, the cache) for its subprocess
    with LocalKafka() as own:
        yield own


def test_later_tests_fail_fast_with_the_same_one_line_cause(own_kafka, pytester):
    pid, bootstrap = own_kafka.node_pid(1), own_kafka.bootstrap_servers
    pytester.makepyfile(KILLING_TESTS.format(kill=f"os.kill({pid}, signal.SIGKILL)"))
    started = time.monotonic()
    result = pytester.runpytest_subprocess("--donki-kafka=external", f"--donki-bootstrap={bootstrap}",
                                           "-p", "no:xdist", "-p", "no:randomly", timeout=120)
    took = time.monotonic() - started
    result.assert_outcomes(passed=1, errors=2)
    lines = [line for line in result.outlines if "BrokerLostError" in line and bootstrap in line]
    assert len(lines) >= 2, result.stdout.str()  # before: each test failed after 30 s with an empty TopicError
    assert took < 40, f"the session took {took:.0f} s"


def test_a_dead_local_session_broker_is_started_again(pytester):
    pytester.makepyfile(KILLING_TESTS.format(kill="donki_kafka.kill(1)"))
    result = pytester.runpytest_subprocess("--donki-kafka=local", "-p", "no:xdist", "-p", "no:randomly",
                                           timeout=240)
    result.assert_outcomes(passed=3)
