"""Apache Kafka in KRaft mode as child processes of the test session."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness import validate
from harness.errors import BrokerError, BrokerLostError, BrokerStartError, BrokerUnreachableError, ConfigError
from harness.kafka.nodeconfig import NodeAddress, node_properties, render_properties
from harness.kafka.ports import ensure_port_free, free_ports
from harness.kafka.provider import Broker
from harness.kafka.readiness import wait_ready
from harness.kafka.runtime import KafkaRuntime, locate_runtime
from harness.kafka.serving import wait_serving
from harness.kafka.storage import format_node, new_uuid
from harness.procs import Child, spawn, tail_text

__all__ = ["LocalKafka"]

START_TIMEOUT_S = 90.0
PORT_RETRIES = 3
DEFAULT_HEAP = "1g"
STOP_GRACE_S = 20.0
_BIND_FAILURE_MARKERS = ("Address already in use", "BindException")
_JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
    "-Xlog:cds=off",
    "-Xlog:cds+dynamic=off",
)


@dataclass
class _Node:
    address: NodeAddress
    config: Path
    log: Path
    child: Child | None = None


class LocalKafka(Broker):
    """A 1- or 3-node KRaft cluster of combined broker/controller JVMs on loopback.

    Parameters
    ----------
    nodes
        1 (default) or 3 (replication factor 3, ``min.insync.replicas`` 2).
    kafka_home, version, fetch
        Where the jars come from; see :func:`harness.kafka.runtime.locate_runtime`.
    port
        Broker port of node 1; other ports are free ones picked at start.
    overrides
        Extra ``server.properties`` settings applied to every node.
    heap
        JVM heap per node (``-Xmx``), default ``$DONKI_KAFKA_HEAP`` or 1g.
    keep_dir
        Keep the data and log directory after :meth:`stop` (for post-mortems).
    hosts, node_prefix
        For clusters spread over hosts (network namespaces in tests): the address each
        node binds and advertises (default loopback for all), and a function of the node
        id giving the command that runs its JVM there (``["ip", "netns", "exec", NS]``).
    """

    provider = "local"

    def __init__(
        self,
        nodes: int = 1,
        *,
        kafka_home: str | None = None,
        version: str | None = None,
        fetch: str = "auto",
        port: int | None = None,
        overrides: Mapping[str, str] | None = None,
        heap: str | None = None,
        start_timeout_s: float = START_TIMEOUT_S,
        keep_dir: bool = False,
        log: Callable[[str], None] = lambda _msg: None,
        hosts: Sequence[str] | None = None,
        node_prefix: Callable[[int], Sequence[str]] | None = None,
    ) -> None:
        super().__init__()
        if nodes not in (1, 3):
            raise ConfigError(f"nodes={nodes!r}: the local provider runs 1 or 3 nodes")
        self.nodes = nodes
        if port is not None:
            validate.port("local Kafka port", port)
        self._kafka_home = kafka_home
        self._version = version
        self._fetch = fetch
        self._port = port
        self._overrides = dict(overrides or {})
        self._heap = heap or os.environ.get("DONKI_KAFKA_HEAP") or DEFAULT_HEAP
        self._start_timeout_s = start_timeout_s
        self._keep_dir = keep_dir
        self._log = log
        if hosts is not None and len(hosts) != nodes:
            raise ConfigError(f"hosts={list(hosts)!r}: expected one address per node ({nodes})")
        self._hosts = list(hosts) if hosts is not None else ["127.0.0.1"] * nodes
        self._node_prefix = node_prefix
        self._runtime: KafkaRuntime | None = None
        self._nodes: list[_Node] = []
        self._killed: set[int] = set()  # nodes stopped on purpose: not an error while others start
        self._workdir: Path | None = None
        self.cluster_id = new_uuid()

    # -- interface -----------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        if not self._nodes:
            raise BrokerStartError("the local Kafka cluster is not started; call start() first")
        return ",".join(n.address.bootstrap for n in self._nodes)

    @property
    def expected_brokers(self) -> int:
        return self.nodes

    @property
    def version(self) -> str | None:
        return self._runtime.version if self._runtime else None

    @property
    def runtime(self) -> KafkaRuntime | None:
        return self._runtime

    @property
    def workdir(self) -> Path | None:
        return self._workdir

    def start(self) -> LocalKafka:
        if self._started:
            return self
        self._runtime = locate_runtime(
            kafka_home=self._kafka_home, version=self._version, fetch=self._fetch, log=self._log
        )
        if self._port is not None:
            ensure_port_free(self._port, what="Kafka broker port")
        for attempt in range(1, PORT_RETRIES + 1):
            try:
                self._start_once()
                self._started = True
                return self
            except _PortTaken as exc:
                self._teardown()
                if self._port is not None or attempt == PORT_RETRIES:
                    raise BrokerStartError(
                        f"Kafka could not bind its ports ({exc}) after {attempt} attempt(s); "
                        "another process took them. Free the port or leave it unset."
                    ) from None
            except BaseException:
                self._teardown()
                raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        self._teardown()
        self._started = False

    def logs(self, node: int | None = None, tail: int = 200) -> str:
        chosen = self._nodes if node is None else [self._node(node)]
        parts = [f"--- node {n.address.node_id} ({n.log}) ---\n{tail_text(n.log, tail)}" for n in chosen]
        return "\n".join(parts)

    # -- fault injection -------------------------------------------------------------
    def kill(self, node: int) -> None:
        """SIGKILL node ``node`` (1-based id), as a crash or power cut would."""
        target = self._node(node)
        self._killed.add(node)
        if target.child is not None:
            target.child.kill()

    def restart(self, node: int, timeout_s: float | None = None) -> None:
        """Start node ``node`` again on its old ports and storage; return once it serves.

        Serving means: the node answers metadata on its own port, is registered with the
        cluster, and is back in the in-sync replicas of every partition it holds (so an
        ``acks=all`` producer counts it again). Raises :class:`BrokerStartError` naming the
        node if it exits or does not get there within ``timeout_s``.
        """
        target = self._node(node)
        if target.child is not None and target.child.alive():
            target.child.stop()
        self._killed.add(node)
        self._launch(target)
        self._killed.discard(node)
        timeout_s = timeout_s or self._start_timeout_s
        started = time.monotonic()
        try:
            wait_ready(target.address.bootstrap, timeout_s=timeout_s, expected_brokers=1,
                       still_starting=lambda: self._check_alive(only=node))
        except BrokerUnreachableError:
            raise BrokerStartError(f"Kafka node {node} did not answer on {target.address.bootstrap} within "
                                   f"{timeout_s:g} s of its restart; last lines of {target.log}:\n"
                                   f"{tail_text(target.log, 20)}") from None
        timeout_s = max(0.0, timeout_s - (time.monotonic() - started))
        # ask the other nodes: the restarted one's own metadata may still be its view from before the kill
        others = [n.address.bootstrap for n in self._nodes
                  if n.address.node_id not in self._killed and n.address.node_id != node]
        wait_serving(",".join(others) or target.address.bootstrap, node, timeout_s,
                     still_starting=lambda: self._check_alive(only=node))

    def recover(self, reason: str) -> None:
        """Start again every node that is not running (a session broker killed by a test)."""
        dead = [n.address.node_id for n in self._nodes if n.child is None or not n.child.alive()]
        self._log(f"no Kafka node answers ({reason}); restarting node(s) {dead}")
        try:
            for node in dead:
                self.restart(node)
        except BrokerError as exc:
            self.lost = BrokerLostError(self.bootstrap_servers, f"{reason}; restarting failed: {exc}")
            raise self.lost from None

    def node_alive(self, node: int) -> bool:
        child = self._node(node).child
        return child is not None and child.alive()

    def node_killed(self, node: int) -> bool:
        """Node ``node`` was stopped on purpose (:meth:`kill`) and not restarted since."""
        return node in self._killed

    def node_pid(self, node: int) -> int | None:
        child = self._node(node).child
        return child.pid if child is not None and child.alive() else None

    def node_bootstrap(self, node: int) -> str:
        return self._node(node).address.bootstrap

    # -- internals -------------------------------------------------------------------
    def _node(self, node: int) -> _Node:
        for candidate in self._nodes:
            if candidate.address.node_id == node:
                return candidate
        ids = [n.address.node_id for n in self._nodes] or "none (not started)"
        raise ConfigError(f"node {node!r} is not a node of this cluster; node ids: {ids}")

    def _start_once(self) -> None:
        assert self._runtime is not None
        self._workdir = Path(tempfile.mkdtemp(prefix="donki-kafka-"))
        log4j = self._workdir / "log4j2.properties"
        log4j.write_text(resources.files("harness.kafka").joinpath("data/log4j2.properties").read_text())
        ports = free_ports(2 * self.nodes)
        if self._port is not None:
            ports[0] = self._port
        cluster = [NodeAddress(i + 1, ports[2 * i], ports[2 * i + 1], self._hosts[i]) for i in range(self.nodes)]
        for address in cluster:
            data = self._workdir / f"node-{address.node_id}" / "data"
            format_node(self._runtime, data, address.node_id, self.cluster_id, log4j)
            config = self._workdir / f"node-{address.node_id}" / "server.properties"
            config.write_text(render_properties(node_properties(address, cluster, str(data), self._overrides)))
            self._nodes.append(_Node(address, config, self._workdir / f"node-{address.node_id}.log"))
        for node in self._nodes:
            self._launch(node)
        wait_ready(
            self.bootstrap_servers,
            timeout_s=self._start_timeout_s,
            expected_brokers=self.nodes,
            still_starting=self._check_alive,
        )

    def _jvm_argv(self, node: _Node) -> list[str]:
        assert self._runtime is not None and self._workdir is not None
        archive = self._runtime.state_dir / "kafka-cds.jsa"
        if archive.exists():
            cds = [f"-XX:SharedArchiveFile={archive}"]
        elif node.address.node_id == 1:
            # the first clean stop writes the class-data archive that makes later starts faster
            cds = [f"-XX:ArchiveClassesAtExit={archive}.{os.getpid()}.tmp"]
        else:
            cds = []
        prefix = list(self._node_prefix(node.address.node_id)) if self._node_prefix is not None else []
        return [
            *prefix,
            self._runtime.java,
            f"-Xmx{self._heap}",
            *_JVM_FLAGS, *cds,
            f"-Dlog4j2.configurationFile={self._workdir / 'log4j2.properties'}",
            "-cp", self._runtime.classpath,
            "kafka.Kafka", str(node.config),
        ]

    def _launch(self, node: _Node) -> None:
        node.child = spawn(f"kafka-node-{node.address.node_id}", self._jvm_argv(node), node.log)

    def _check_alive(self, only: int | None = None) -> None:
        """Raise if a node that should be running has exited (``only``: just that node)."""
        for node in self._nodes:
            if only is not None and node.address.node_id != only or node.address.node_id in self._killed:
                continue
            if node.child is not None and not node.child.alive():
                tail = tail_text(node.log, 30)
                if any(marker in tail for marker in _BIND_FAILURE_MARKERS):
                    ports = f"{node.address.broker_port}/{node.address.controller_port}"
                    raise _PortTaken(f"node {node.address.node_id} ports {ports}")
                raise BrokerStartError(
                    f"Kafka node {node.address.node_id} exited with code {node.child.returncode} while starting; "
                    f"last lines of {node.log}:\n{tail}"
                )

    def _teardown(self) -> None:
        # all at once: stopped one by one, the last nodes of a quorum wait for each other
        children = [n.child for n in self._nodes if n.child is not None]
        for child in children:
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for child in children:
            child.stop(grace_s=max(0.0, deadline - time.monotonic()))
        self._promote_cds_archive()
        if self._workdir is not None and not self._keep_dir:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._nodes = []
        self._workdir = None

    def _promote_cds_archive(self) -> None:
        if self._runtime is None:
            return
        final = self._runtime.state_dir / "kafka-cds.jsa"
        partial = self._runtime.state_dir / f"kafka-cds.jsa.{os.getpid()}.tmp"
        if partial.exists():
            if final.exists():
                partial.unlink()
            else:
                partial.replace(final)


class _PortTaken(Exception):
    """Internal: a node died because its port was grabbed between choosing and binding."""
