"""The plugin's broker options, one test per way of configuring (pytester)."""

from __future__ import annotations

import pytest

from harness.kafka.ports import free_ports
from harness.kafka.runtime import cache_root

CACHE = cache_root()  # read before pytester points HOME at a temporary directory

USES_BROKER = """
def test_broker(donki_kafka, donki_topics):
    assert donki_kafka.provider == "{provider}"
    assert donki_kafka.bootstrap_servers == "{bootstrap}"
    topic = donki_topics.create("estia_detector")
    assert topic in __import__("harness.kafka").kafka.TopicAdmin(donki_kafka.client_config).list()
"""


@pytest.fixture()
def external(donki_kafka):
    return donki_kafka.bootstrap_servers


def test_command_line_options(pytester, external):
    pytester.makepyfile(USES_BROKER.format(provider="external", bootstrap=external))
    result = pytester.runpytest("--donki-kafka=external", f"--donki-bootstrap={external}")
    result.assert_outcomes(passed=1)


def test_ini_keys(pytester, external):
    pytester.makeini(f"[pytest]\ndonki_kafka = external\ndonki_bootstrap = {external}\n")
    pytester.makepyfile(USES_BROKER.format(provider="external", bootstrap=external))
    pytester.runpytest().assert_outcomes(passed=1)


def test_environment_variables(pytester, external, monkeypatch):
    monkeypatch.setenv("DONKI_KAFKA", "external")
    monkeypatch.setenv("DONKI_BOOTSTRAP", external)
    pytester.makepyfile(USES_BROKER.format(provider="external", bootstrap=external))
    pytester.runpytest().assert_outcomes(passed=1)


def test_environment_beats_ini(pytester, external, monkeypatch):
    # CI overrides a project's ini file through the environment (pytest-django's order)
    pytester.makeini("[pytest]\ndonki_kafka = container\ndonki_bootstrap = 127.0.0.1:1\n")
    monkeypatch.setenv("DONKI_KAFKA", "external")
    monkeypatch.setenv("DONKI_BOOTSTRAP", external)
    pytester.makepyfile(USES_BROKER.format(provider="external", bootstrap=external))
    pytester.runpytest().assert_outcomes(passed=1)


def test_option_beats_ini(pytester, external):
    pytester.makeini("[pytest]\ndonki_kafka = container\n")
    pytester.makepyfile(USES_BROKER.format(provider="external", bootstrap=external))
    pytester.runpytest("--donki-kafka=external", f"--donki-bootstrap={external}").assert_outcomes(passed=1)


def test_factory_in_a_conftest(pytester, external):
    pytester.makeconftest(
        "from pytest_donki import kafka_broker_fixture, topic_namespace_fixture\n"
        f"my_kafka = kafka_broker_fixture(scope='module', provider='external', bootstrap='{external}')\n"
        "my_topics = topic_namespace_fixture('my_kafka')\n"
    )
    pytester.makepyfile(
        "def test_mine(my_kafka, my_topics):\n"
        "    assert my_kafka.provider == 'external'\n"
        "    assert my_topics.create('loki_monitor').endswith('.loki_monitor')\n"
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize("source", ["option", "environment", "ini"])
def test_a_bad_value_is_a_usage_error_at_start_up(pytester, monkeypatch, source):
    pytester.makepyfile("def test_x(donki_kafka):\n    pass\n")
    args = []
    if source == "option":
        args = ["--donki-kafka=zookeeper"]
    elif source == "environment":
        monkeypatch.setenv("DONKI_KAFKA", "zookeeper")
    else:
        pytester.makeini("[pytest]\ndonki_kafka = zookeeper\n")
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pytest-donki: * 'zookeeper' is not a valid value; expected one of: "
                                 "auto, local, container, external"])
    assert "Traceback" not in result.stderr.str() and "test_x" not in result.stdout.str()


def test_unreachable_broker_fails_instead_of_skipping(pytester):
    port = free_ports(1)[0]
    pytester.makepyfile("def test_x(donki_kafka):\n    pass\n")
    result = pytester.runpytest("--donki-kafka=external", f"--donki-bootstrap=127.0.0.1:{port}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*127.0.0.1:{port} was not ready*"])


def test_report_header_names_the_provider(pytester, external):
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest("--donki-kafka=external", f"--donki-bootstrap={external}")
    result.stdout.fnmatch_lines([f"donki: kafka provider external (external), bootstrap {external}; record mode none"])


def test_options_are_listed_in_help(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--donki-kafka=*", "*--donki-bootstrap=*", "*donki_kafka (string)*"])


def test_topics_of_a_finished_test_are_deleted_and_tests_never_share(pytester, external):
    pytester.makepyfile(
        "import json, pathlib\n"
        "def test_a(donki_topics):\n"
        "    pathlib.Path('a.txt').write_text(donki_topics.create('x'))\n"
        "def test_b(donki_topics):\n"
        "    pathlib.Path('b.txt').write_text(donki_topics.create('x'))\n"
    )
    pytester.runpytest("--donki-kafka=external", f"--donki-bootstrap={external}").assert_outcomes(passed=2)
    from harness.kafka import TopicAdmin

    a, b = (pytester.path / "a.txt").read_text(), (pytester.path / "b.txt").read_text()
    assert a != b
    remaining = TopicAdmin({"bootstrap.servers": external}).list()
    assert a not in remaining and b not in remaining


def test_xdist_workers_never_share_topics(pytester, external):
    pytester.makepyfile(
        "import pathlib, pytest\n"
        "@pytest.mark.parametrize('i', range(4))\n"
        "def test_t(donki_topics, i):\n"
        "    pathlib.Path(f'{i}.txt').write_text(donki_topics.create('shared_name'))\n"
    )
    result = pytester.runpytest_subprocess("-n", "2", "--donki-kafka=external", f"--donki-bootstrap={external}")
    result.assert_outcomes(passed=4)
    names = [(pytester.path / f"{i}.txt").read_text() for i in range(4)]
    assert len(set(names)) == 4
    assert {n.split("-")[1] for n in names} == {"gw0", "gw1"}


def test_report_header_names_the_provider_auto_would_pick_and_its_kafka_version(pytester, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_ports(1)[0]}")  # no Docker daemon anywhere
    monkeypatch.delenv("DONKI_KAFKA", raising=False)
    monkeypatch.delenv("DONKI_BOOTSTRAP", raising=False)
    monkeypatch.setenv("DONKI_KAFKA_CACHE", str(CACHE))
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("--donki-kafka=auto")
    result.stdout.fnmatch_lines(["donki: kafka provider local (auto), Apache Kafka 4.* from *; record mode none"])
    # with no donki setting at all, the engine is not imported at start-up (a project's own
    # module named harness stays its own): the header says when the broker will start
    idle = pytester.runpytest_subprocess()
    idle.stdout.fnmatch_lines(["donki: no donki setting given; the engine and the broker start with the first "
                               "donki fixture"])


def test_a_report_without_matplotlib_is_a_usage_error_at_start_up(pytester):
    pytester.makeconftest("import sys\nsys.modules['matplotlib'] = None  # as if it were not installed\n")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("--donki-report=out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--donki-report*matplotlib, which is not installed: pip install 'pytest-donki*"])
    assert "pytest-donki[report]" in result.stderr.str()
