"""A scenario over several hosts: network namespaces joined by a bridge, made (and removed) by the test.

Hosts (198.19.7.0/24, RFC 2544 benchmarking range):

    root namespace  .254  the director (CURVE on) and this test process, bridge ``dk7br``
    dk7-p1          .11   player run-control
    dk7-p2          .12   player ess-events
    dk7-k1..k3      .21-23  one Kafka node each, advertising its own address
    dk7-rec         .31   the recorder (``donki record``)

The built-in ``ess-pulse`` scenario runs unchanged (its CI variant, 15 s long). Mid-run the
link of dk7-p2 goes down for 5 s. The run applies its policy: it waits for the late ack
within its ack timeout (the journal shows a ~5 s ack), or, when the cut also dropped the
director connection (ZMTP heartbeat timeout 5 s) and the ack with it, policy ``fail``
ends the run after the ack timeout (the journal shows the timeout and the abort). Either
way every message Kafka acknowledged is in Kafka and in the recording made on another host.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.errors import DonkiError
from harness.kafka import LocalKafka, TopicAdmin, TopicSpec
from harness.orchestra.journal import EventKind
from harness.orchestra.security import CurveClient, CurveServer, generate_keypair
from harness.runs import RunRequest, SizedScenario, run
from harness.scenarios import load_scenario
from harness.streams.readback import topic_message_count

pytestmark = pytest.mark.slow

SUBNET = "198.19.7"
BRIDGE = "dk7br"
DIRECTOR_HOST = f"{SUBNET}.254"
HOSTS = {"p1": 11, "p2": 12, "k1": 21, "k2": 22, "k3": 23, "rec": 31}
PLAYER_HOSTS = {"run-control": "p1", "ess-events": "p2"}
OUTAGE_S = 5.0
COMMAND_TIMEOUT_S = 10.0


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip()}")
    return result


class Topology:
    """Namespaces with veth pairs on one bridge; :meth:`remove` undoes everything, also half-built."""

    def namespace(self, host: str) -> str:
        return f"dk7-{host}"

    def prefix(self, host: str) -> list[str]:
        return ["ip", "netns", "exec", self.namespace(host)]

    def build(self) -> Topology:
        self.remove()  # leftovers of an interrupted earlier run
        _run("ip", "link", "add", BRIDGE, "type", "bridge")
        _run("ip", "addr", "add", f"{DIRECTOR_HOST}/24", "dev", BRIDGE)
        _run("ip", "link", "set", BRIDGE, "up")
        for host, number in HOSTS.items():
            ns, outside, inside = self.namespace(host), f"dk7{host}b", f"dk7{host}n"
            _run("ip", "netns", "add", ns)
            _run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside, "netns", ns)
            _run("ip", "link", "set", outside, "master", BRIDGE, "up")
            _run("ip", "-n", ns, "addr", "add", f"{SUBNET}.{number}/24", "dev", inside)
            _run("ip", "-n", ns, "link", "set", inside, "up")
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        if shutil.which("iptables"):  # bridged frames pass iptables here: let ours through whatever the policy
            _run("iptables", "-I", "FORWARD", "-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT", check=False)
        return self

    def remove(self) -> None:
        for host in HOSTS:
            ns = self.namespace(host)
            pids = _run("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:  # only processes this test started live in its namespaces
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            _run("ip", "netns", "del", ns, check=False)  # deletes the veth pair too
        _run("ip", "link", "del", BRIDGE, check=False)
        if shutil.which("iptables"):
            while _run("iptables", "-D", "FORWARD", "-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT",
                       check=False).returncode == 0:
                pass

    def cut(self, host: str, seconds: float) -> None:
        """Take the host's link down for ``seconds`` (a partition: no packets either way)."""
        _run("ip", "link", "set", f"dk7{host}b", "down")
        try:
            time.sleep(seconds)
        finally:
            _run("ip", "link", "set", f"dk7{host}b", "up")


def _namespaces_possible() -> str:
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_NET_ADMIN); this process is not root"
    if not shutil.which("ip"):
        return "the ip command (iproute2) is not installed"
    probe = _run("ip", "netns", "add", "dk7-probe", check=False)
    if probe.returncode != 0:
        return f"this process may not create network namespaces: {probe.stderr.strip()}"
    _run("ip", "netns", "del", "dk7-probe", check=False)
    return ""


@pytest.fixture(scope="module")
def topology():
    reason = _namespaces_possible()
    if reason:
        pytest.skip(reason)
    topo = Topology()
    try:
        yield topo.build()
    finally:
        topo.remove()


@pytest.fixture
def curve(tmp_path):
    director_public, director_secret = generate_keypair(tmp_path / "director", "director")
    _, player_secret = generate_keypair(tmp_path / "players", "player")
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    shutil.copy(tmp_path / "players" / "player.key", allowed / "player.key")
    return CurveServer(director_secret, allowed), CurveClient(player_secret, director_public)


def test_ess_pulse_over_six_hosts_survives_a_five_second_partition(topology, curve, tmp_path):
    scenario = load_scenario("ess-pulse").ci().with_length(duration_s=15.0)  # its CI size: 1e5 events a pulse
    hosts = [f"{SUBNET}.{HOSTS[f'k{n}']}" for n in (1, 2, 3)]
    with LocalKafka(nodes=3, hosts=hosts, node_prefix=lambda n: topology.prefix(f"k{n}"), heap="512m") as cluster:
        assert [a.rpartition(":")[0] for a in cluster.bootstrap_servers.split(",")] == hosts  # advertised
        prefix = "donki-hosts"
        topics = {local: f"{prefix}.{local}" for local in scenario.topics()}
        TopicAdmin(cluster.client_config).create([TopicSpec(t) for t in topics.values()])
        recording = tmp_path / "hosts.h5"
        recorder = _start_recorder(topology, cluster.bootstrap_servers, list(topics.values()), recording, tmp_path)
        cutter = threading.Thread(target=_cut_when_running, daemon=True,
                                  args=(topology, cluster.client_config, topics[scenario.player("ess-events").topic]))
        cutter.start()
        options = {"host": DIRECTOR_HOST, "curve_server": curve[0], "curve_client": curve[1],
                   "liveness": 40,  # 20 s of heartbeats: a 5 s partition is a late ack, not a lost player
                   "launch_prefix": lambda name: topology.prefix(PLAYER_HOSTS[name])}
        result = run(RunRequest(SizedScenario.as_given(scenario), cluster, topic_prefix=prefix,
                                ensemble_options=options)).summary
        cutter.join(30)
        in_kafka = {name: topic_message_count(cluster.client_config, name) for name in topics.values()}
        recorded = _stop_recorder(recorder, recording, topics.values())
    # the policy decides: the late ack arrives within the ack timeout (the run waits), or the 5 s cut also
    # dropped the ZMTP connection (heartbeat timeout 5 s) with the ack in it, and policy 'fail' ends the run
    journal = result.journal
    if result.outcome == "completed":
        latencies = [e.latency_s for e in journal.of_kind(EventKind.ACK) if e.player == "ess-events"]
        assert max(latencies) >= OUTAGE_S - 1.5, "the journal shows no ack held up by the partition"
        assert all(stream.complete for stream in result.streams), result.all_problems()
    else:
        assert result.outcome == "aborted", result.all_problems()
        blamed = {e.player for e in journal.of_kind(EventKind.TIMEOUT, EventKind.PLAYER_LOST)}
        assert blamed == {"ess-events"}, blamed  # the player on the cut host, nobody else
        assert journal.of_kind(EventKind.RUN_ABORTED)
    for stream in result.streams:
        assert stream.delivered > 0
        assert stream.in_kafka is None or stream.in_kafka >= stream.delivered, f"acked but lost: {stream}"
    assert recorded == in_kafka, "the recorder on its own host missed messages"
    joined = journal.of_kind(EventKind.PLAYER_JOINED)
    assert {e.player for e in joined} == set(PLAYER_HOSTS)


def _cut_when_running(topology: Topology, client_config: dict, topic: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if topic_message_count(client_config, topic) >= 20:
                break
        except DonkiError:
            pass  # a new topic's metadata may not have reached every node yet
        time.sleep(0.2)
    topology.cut("p2", OUTAGE_S)


def _start_recorder(topology: Topology, bootstrap: str, topics: list[str], path: Path, tmp_path: Path):
    argv = [*topology.prefix("rec"), sys.executable, "-m", "harness", "record", "-b", bootstrap, "-o", str(path),
            "--flush-interval", "0.5"]
    for topic in topics:
        argv += ["-t", topic]
    log = tmp_path / "recorder.log"
    with open(log, "w") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2])
    return process, log


def _stop_recorder(recorder, path: Path, topics) -> dict[str, int]:
    from harness.recording.reader.reader import Recording

    process, log = recorder
    try:
        time.sleep(3.0)  # the last messages reach the recorder
        process.send_signal(signal.SIGINT)
        process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 0, log.read_text()
    with Recording(path) as recording:
        return {topic: len(recording.select(topics=[topic])) for topic in topics}
