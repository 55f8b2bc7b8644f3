"""``donki kafka fetch|start|node|status|topics|selftest|image``: the broker runtime from the command line."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from harness import validate as v
from harness.cli.kafka_image_cmd import register_image
from harness.cli.output import log
from harness.errors import ConfigError, DonkiError

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kafka = subparsers.add_parser("kafka", help="fetch, start or inspect the local Apache Kafka broker")
    sub = kafka.add_subparsers(dest="kafka_command", metavar="ACTION", required=True)

    fetch = sub.add_parser("fetch", help="resolve the Apache Kafka jars with Maven into the user cache")
    fetch.add_argument("--kafka-version", default=None, help="Kafka version (default: %(default)s = built-in)")
    fetch.add_argument("--force", action="store_true", help="fetch again even if cached")
    fetch.set_defaults(func=_fetch)

    start = sub.add_parser("start", help="run a local KRaft broker in the foreground until Ctrl-C")
    start.add_argument("--nodes", type=int, choices=(1, 3), default=1)
    start.add_argument("--port", type=v.arg_port(), default=None,
                       help="broker port of node 1, 1-65535 (default: a free port)")
    start.add_argument("--kafka-version", default=None)
    start.add_argument("--topic", action="append", default=[], metavar="NAME[:PARTITIONS]", type=_topic_spec,
                       help="create this topic once the broker is up (repeatable)")
    start.add_argument("--state", type=Path, default=None, metavar="FILE",
                       help="where `donki kafka node` finds this cluster (default: $DONKI_KAFKA_STATE, else "
                            "cluster.json in the Kafka cache)")
    start.set_defaults(func=_start)

    node = sub.add_parser("node", help="kill or restart a node of a running `donki kafka start`",
                          description="SIGKILL a node (as a crash would) or start it again on its old ports and "
                                      "data; restart returns once the node is back in the in-sync replicas.")
    node.add_argument("operation", choices=("kill", "restart"))
    node.add_argument("node", type=int, metavar="N", help="node id (1-based)")
    node.add_argument("--state", type=Path, default=None, metavar="FILE", help="the cluster's state file")
    node.add_argument("--timeout", type=float, default=90.0, metavar="SECONDS", help="restart deadline")
    node.set_defaults(func=_node)

    status = sub.add_parser("status", help="show what a local broker needs and, with --bootstrap, a cluster's health")
    status.add_argument("--bootstrap", "-b", default=None,
                        help="HOST:PORT of a cluster to probe (default: $DONKI_BOOTSTRAP)")
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    status.set_defaults(func=_status)

    from harness.cli.topics_cmd import register as register_topics

    register_topics(sub)

    selftest = sub.add_parser("selftest", help="start a local broker, round-trip one message, stop")
    selftest.set_defaults(func=_selftest)

    register_image(sub)


def _fetch(args: argparse.Namespace) -> int:
    from harness.kafka.runtime import DEFAULT_KAFKA_VERSION, fetch_runtime

    runtime = fetch_runtime(args.kafka_version or DEFAULT_KAFKA_VERSION, log=log, force=args.force)
    jars = len(list(runtime.libs.glob("*.jar")))
    print(f"Apache Kafka {runtime.version}: {jars} jars in {runtime.libs}")
    return 0


def _start(args: argparse.Namespace) -> int:
    from harness.kafka import LocalKafka, TopicAdmin, TopicSpec

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    broker = LocalKafka(args.nodes, port=args.port, version=args.kafka_version, log=log)
    log(f"starting {args.nodes} node(s) of Apache Kafka ...")
    from harness.kafka.control import ControlServer, default_state_path

    with broker, ControlServer(broker, args.state or default_state_path()) as control:
        TopicAdmin(broker.client_config).create([TopicSpec(name, partitions) for name, partitions in args.topic])
        print(f"bootstrap: {broker.bootstrap_servers}", flush=True)
        print(f"export DONKI_BOOTSTRAP={broker.bootstrap_servers}", flush=True)
        log(f"Kafka {broker.version} is up; data in {broker.workdir}; state in {control.state_path}; Ctrl-C to stop. "
            "In another shell, paste the export line above and every donki command (and pytest) uses this broker")
        try:
            while not stop.wait(0.5):
                for node in range(1, args.nodes + 1):
                    if not (broker.node_alive(node) or broker.node_killed(node) or control.busy()):
                        raise DonkiError(f"node {node} exited unexpectedly:\n{broker.logs(node, 20)}")
        except KeyboardInterrupt:
            pass
        log("stopping")
    return 0


def _node(args: argparse.Namespace) -> int:
    from harness.kafka.control import default_state_path, send_command

    if not 0 < args.timeout < 3600:
        raise ConfigError(f"--timeout {args.timeout}: expected seconds between 0 and 3600")
    print(send_command(args.state or default_state_path(), args.operation, args.node, args.timeout))
    return 0


def _topic_spec(text: str) -> tuple[str, int]:
    name, sep, partitions = text.partition(":")
    if not name:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME or NAME:PARTITIONS")
    return name, v.arg_int(1, 10_000)(partitions) if sep else 1


def _status(args: argparse.Namespace) -> int:
    from harness.kafka.container import docker_available
    from harness.kafka.runtime import cache_root, find_java, locate_runtime

    report: dict[str, object] = {"cache": str(cache_root()), "kafka_home": os.environ.get("KAFKA_HOME"),
                                 "maven": shutil.which("mvn"), "docker": docker_available()}
    bootstrap = args.bootstrap or os.environ.get("DONKI_BOOTSTRAP") or None
    try:
        report["java"] = find_java()
    except DonkiError as exc:
        report["java"] = None
        report["java_error"] = str(exc)
    try:
        runtime = locate_runtime(fetch="never")
        report["local_runtime"] = {"version": runtime.version, "source": runtime.source}
    except DonkiError as exc:
        report["local_runtime"] = None
        report["local_runtime_error"] = str(exc)
    if report["docker"]:
        from harness.kafka.container import describe_container_image

        report["container_image"] = describe_container_image()
    if bootstrap:
        from harness.kafka.external import parse_bootstrap
        from harness.kafka.readiness import probe

        health = probe(parse_bootstrap(bootstrap, "--bootstrap"), timeout_s=2.0)
        report["cluster"] = {"bootstrap": bootstrap, "ok": health.ok, "brokers": health.brokers,
                             "controller": health.controller_id, "detail": health.detail}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        from harness.cli.output import print_table

        print_table(_status_table(report))
    cluster = report.get("cluster")
    return 1 if isinstance(cluster, dict) and not cluster["ok"] else 0


def _status_table(report: dict[str, object]) -> Table:
    """``donki kafka status`` as a two-column table: what is there, what is missing and how to get it."""
    from rich.table import Table

    table = Table("", "", box=None, show_header=False, pad_edge=False)
    java = report.get("java")
    table.add_row("Java", str(java) if java else f"[red]missing[/red]: {report.get('java_error', '')}")
    table.add_row("Maven", str(report["maven"]) if report["maven"] else "[yellow]not found[/yellow] (needed by "
                  "`donki kafka fetch` unless the jars are cached)")
    runtime = report.get("local_runtime")
    if isinstance(runtime, dict):
        table.add_row("Kafka jars", f"Apache Kafka {runtime['version']} ({runtime['source']})")
    else:
        table.add_row("Kafka jars", f"[yellow]not cached[/yellow]: run `donki kafka fetch` "
                                    f"({report.get('local_runtime_error', '')})")
    table.add_row("cache", str(report["cache"]))
    table.add_row("KAFKA_HOME", str(report["kafka_home"]) if report["kafka_home"] else "not set (the cached jars "
                  "are used)")
    table.add_row("Docker", "available (--kafka container)" if report["docker"] else "not available")
    if report.get("container_image"):
        table.add_row("image", str(report["container_image"]))
    cluster = report.get("cluster")
    if isinstance(cluster, dict):
        state = "[green]up[/green]" if cluster["ok"] else "[red]not reachable[/red]"
        table.add_row("cluster", f"{cluster['bootstrap']}: {state}, {cluster['detail']}")
    else:
        table.add_row("cluster", "none given (--bootstrap HOST:PORT or DONKI_BOOTSTRAP)")
    return table


def _selftest(args: argparse.Namespace) -> int:
    from harness.kafka import LocalKafka, TopicAdmin, TopicSpec, make_consumer, make_producer

    t0 = time.monotonic()
    with LocalKafka(log=log) as broker:
        print(f"started Apache Kafka {broker.version} (local KRaft) at {broker.bootstrap_servers} "
              f"in {time.monotonic() - t0:.1f} s")
        TopicAdmin(broker.client_config).create([TopicSpec("demo_selftest", 1)])
        print("created topic demo_selftest")
        producer = make_producer(broker.client_config)
        producer.produce("demo_selftest", b"hello from pytest-donki", key=b"k", headers=[("donki.seq", b"0")],
                         timestamp=1_700_000_000_000)
        if producer.flush(30) != 0:
            raise DonkiError("the selftest message was not delivered within 30 s")
        print("produced 1 message")
        consumer = make_consumer(broker.client_config)
        consumer.subscribe(["demo_selftest"])
        deadline = time.monotonic() + 30
        message = None
        while message is None and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error():
                raise DonkiError(f"consume failed: {message.error()}")
        consumer.close()
        if message is None:
            raise DonkiError("the selftest message was not consumed within 30 s")
        print(f"consumed {message.value()!r} key={message.key()!r} headers={message.headers()} "
              f"timestamp={message.timestamp()[1]} offset={message.offset()}")
    print(f"stopped the broker; total {time.monotonic() - t0:.1f} s")
    return 0
