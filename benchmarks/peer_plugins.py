"""pytest-donki's broker fixture against the peer plugin pytest-kafka-broker, in throwaway projects.

Both projects hold the same tests (create a topic, produce one message, wait for its
acknowledgement), each on a function-scoped broker fixture: the peer's ``kafka_broker``
(the only scope it offers) and ours, ``kafka_broker_fixture(scope="function")``. Each
project runs in a fresh ``pytest`` process (only its own broker plugin loaded); the runs
alternate, the order rotated and printed. The peer's ``kafka_home`` is pointed at the same
Maven-resolved Apache Kafka jars that pytest-donki runs (a kafka_home-like directory is
assembled: ``libs/`` links to those jars, ``bin/`` holds reduced copies of the release's
start scripts that run the release's JVM command line), so both start the same broker code.

Prints, median of the runs with min-max, and the load average:
  * pytest start to the first acknowledged produce (process launch to the ack in test 1);
  * per-test cost of a function-scoped broker (a test's setup + call + teardown).

Needs ``pip install pytest-kafka-broker`` (not a dependency of pytest-donki); without it the
script says so and measures ours only.

    python benchmarks/peer_plugins.py [--quick] [--runs N] [--tests N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from _rounds import load_text

from harness.kafka.runtime import KafkaRuntime, locate_runtime

PEER = "pytest-kafka-broker"

TEST_BODY = '''
import json, time
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

def produce_one(config, topic):
    admin = AdminClient(config)  # kept: a collected client cancels its pending futures
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(60)
    producer = Producer(config)
    producer.produce(topic, b"x")
    assert producer.flush(60) == 0, "the produce was not acknowledged"
    with open("acked.jsonl", "a") as out:
        out.write(json.dumps({"acked": time.time()}) + "\\n")
'''

TIMING_CONFTEST = '''
import json, time, pytest

@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    t0 = time.time()
    try:
        return (yield)
    finally:
        with open("per_test.jsonl", "a") as out:
            out.write(json.dumps({"test_s": time.time() - t0}) + "\\n")
'''

PEER_CONFTEST = '''
import pathlib, pytest

@pytest.fixture(scope="session")
def kafka_home():
    return pathlib.Path({home!r})
'''

PEER_TEST = '''
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_produce(i, kafka_broker):
    produce_one(kafka_broker.config(), f"peer_{{i}}")
'''

OURS_CONFTEST = '''
from pytest_donki import kafka_broker_fixture

function_kafka = kafka_broker_fixture(scope="function", provider="local")
'''

OURS_TEST = '''
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_produce(i, function_kafka):
    produce_one(function_kafka.client_config, f"ours_{{i}}")
'''

RUN_CLASS = '''#!/bin/sh
# Reduced copy of Apache Kafka's bin/kafka-run-class.sh: the release's JVM command line
# (heap, performance, JMX and log4j options) over the jars in ../libs.
base_dir=$(cd "$(dirname "$0")/.." && pwd)
[ -z "$KAFKA_HEAP_OPTS" ] && KAFKA_HEAP_OPTS="-Xmx256M"
[ -z "$KAFKA_JMX_OPTS" ] && KAFKA_JMX_OPTS="-Dcom.sun.management.jmxremote=true \
-Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false"
[ -z "$KAFKA_JVM_PERFORMANCE_OPTS" ] && KAFKA_JVM_PERFORMANCE_OPTS="-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
-XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true"
exec "{java}" $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS $KAFKA_GC_LOG_OPTS $KAFKA_JMX_OPTS $KAFKA_LOG4J_OPTS \
  -cp "$base_dir/libs/*" $KAFKA_OPTS "$@"
'''

SERVER_START = '''#!/bin/sh
# Reduced copy of Apache Kafka's bin/kafka-server-start.sh (release defaults: 1 GB heap, GC log, log4j2).
base_dir=$(cd "$(dirname "$0")/.." && pwd)
[ -z "$KAFKA_LOG4J_OPTS" ] && export KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=$base_dir/config/log4j2.yaml"
[ -z "$KAFKA_HEAP_OPTS" ] && export KAFKA_HEAP_OPTS="-Xmx1G -Xms1G"
export KAFKA_GC_LOG_OPTS="-Xlog:gc*:file=${LOG_DIR:-/tmp}/kafkaServer-gc.log:time,tags:filecount=10,filesize=100M"
exec "$(dirname "$0")/kafka-run-class.sh" kafka.Kafka "$@"
'''

STORAGE = '''#!/bin/sh
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.StorageTool "$@"
'''

LOG4J2 = '''Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
'''


def assemble_kafka_home(runtime: KafkaRuntime, home: Path) -> Path:
    """A kafka_home-like directory over ``runtime``'s jars: what the peer's ``kafka_home`` must hold."""
    (home / "bin").mkdir(parents=True)
    (home / "config").mkdir()
    (home / "libs").symlink_to(runtime.libs.resolve(), target_is_directory=True)
    scripts = {"kafka-run-class.sh": RUN_CLASS.format(java=runtime.java), "kafka-server-start.sh": SERVER_START,
               "kafka-storage.sh": STORAGE}
    for name, text in scripts.items():
        (home / "bin" / name).write_text(text)
        (home / "bin" / name).chmod(0o755)
    (home / "config" / "log4j2.yaml").write_text(LOG4J2)
    return home


def write_project(directory: Path, conftest: str, test: str, tests: int) -> Path:
    directory.mkdir(parents=True)
    (directory / "conftest.py").write_text(textwrap.dedent(TIMING_CONFTEST + conftest))
    (directory / "test_produce.py").write_text(TEST_BODY + test.format(n=tests))
    return directory


def run_project(project: Path, plugin_args: list[str]) -> dict[str, object]:
    """One fresh pytest process in ``project``: seconds to the first ack, and per-test seconds."""
    for name in ("acked.jsonl", "per_test.jsonl"):
        (project / name).unlink(missing_ok=True)
    env = {**os.environ, "DONKI_KAFKA": "local", "PYTHONDONTWRITEBYTECODE": "1"}
    launched = time.time()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                             *plugin_args], cwd=project, capture_output=True, text=True, timeout=900, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"pytest in {project.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    acked = [json.loads(line)["acked"] for line in (project / "acked.jsonl").read_text().splitlines()]
    per_test = [json.loads(line)["test_s"] for line in (project / "per_test.jsonl").read_text().splitlines()]
    return {"first_ack_s": acked[0] - launched, "per_test_s": per_test}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size")
    parser.add_argument("--runs", type=int, default=None, help="pytest runs per plugin (default 3, quick 2)")
    parser.add_argument("--tests", type=int, default=None, help="tests per run (default 3, quick 2)")
    args = parser.parse_args(argv)
    runs, tests = args.runs or (2 if args.quick else 3), args.tests or (2 if args.quick else 3)
    runtime = locate_runtime()
    peer_installed = importlib.util.find_spec("pytest_kafka_broker") is not None
    print(f"load average before {load_text()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="donki-peer-") as tmp:
        root = Path(tmp)
        contenders = {"pytest-donki": (write_project(root / "ours", OURS_CONFTEST, OURS_TEST, tests),
                                       ["-p", "no:kafka_broker", "-p", "no:asyncio"])}
        if peer_installed:
            home = assemble_kafka_home(runtime, root / "kafka_home")
            contenders[PEER] = (write_project(root / "peer", PEER_CONFTEST.format(home=str(home)), PEER_TEST, tests),
                                ["-p", "no:donki", "--kafka"])
        names = list(contenders)
        figures: dict[str, list[dict[str, object]]] = {name: [] for name in names}
        orders = []
        for run in range(runs):
            order = names[run % len(names):] + names[:run % len(names)]
            orders.append("/".join(order))
            for name in order:
                figures[name].append(run_project(*contenders[name]))
    print(f"function-scoped broker fixtures, Apache Kafka {runtime.version} jars from {runtime.source}, "
          f"{tests} tests per pytest run, median of {runs} runs (min-max); order per run {', '.join(orders)}")
    for name in names:
        first = [float(f["first_ack_s"]) for f in figures[name]]  # type: ignore[arg-type]
        per_test = [t for f in figures[name] for t in f["per_test_s"]]  # type: ignore[attr-defined]
        print(f"  {name:<20} pytest start to first acked produce {spread(first)}; per test with its own broker "
              f"{spread(per_test)}")
    if peer_installed:
        ours_first = statistics.median(float(f["first_ack_s"]) for f in figures["pytest-donki"])  # type: ignore[arg-type]
        peer_first = statistics.median(float(f["first_ack_s"]) for f in figures[PEER])  # type: ignore[arg-type]
        ours_test = statistics.median(t for f in figures["pytest-donki"] for t in f["per_test_s"])  # type: ignore[attr-defined]
        peer_test = statistics.median(t for f in figures[PEER] for t in f["per_test_s"])  # type: ignore[attr-defined]
        print(f"  ratio {PEER}/pytest-donki: first acked produce {peer_first / ours_first:.2f}, "
              f"per test {peer_test / ours_test:.2f}")
    else:
        print(f"  {PEER}: not installed (pip install {PEER}); measured pytest-donki only")
    print(f"load average after {load_text()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
