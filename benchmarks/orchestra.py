"""Director/Player throughput and latency against a raw pyzmq ROUTER/DEALER ping-pong, in one run.

    python benchmarks/orchestra.py            # 5 rounds: 5000 triggers (1 player), 2000 (6 players / 3 levels)
    python benchmarks/orchestra.py --quick    # CI size

Both sides use separate player processes on loopback TCP. The raw peer is the floor the
machine allows: a ROUTER that sends each level's "trigger" to its DEALERs at once and waits
for all echoes before the next level, with no registry, journal, deadlines or decoding.
Rounds alternate raw and donki so that machine noise hits both alike; medians are quoted
and the ratio donki/raw is printed last.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.orchestra import Ensemble, EventKind, PlayerConfig  # noqa: E402
from harness.procs import spawn  # noqa: E402

TARGET_1P = 5000.0
TARGET_6P = 1000.0
TARGET_P99_MS = 2.0
LEVELS = 3

ECHO = r"""
import sys, zmq
ctx = zmq.Context(); s = ctx.socket(zmq.DEALER); s.linger = 0; s.connect(sys.argv[1]); s.send(b"hello")
while True:
    frames = s.recv_multipart()
    if frames[0] == b"bye":
        break
    s.send_multipart(frames)
"""


class RawPeers:
    """A ROUTER here and echoing DEALER processes: the ping-pong floor."""

    def __init__(self, players: int, log_dir: Path) -> None:
        import zmq

        self.zmq = zmq
        self.context = zmq.Context()
        self.router = self.context.socket(zmq.ROUTER)
        self.router.linger = 0
        port = self.router.bind_to_random_port("tcp://127.0.0.1")
        self.children = [spawn(f"echo{i}", [sys.executable, "-c", ECHO, f"tcp://127.0.0.1:{port}"],
                               log_dir / f"echo{i}.log") for i in range(players)]
        if not self.router.poll(30_000):
            raise SystemExit("raw echo peers did not connect within 30 s")
        self.ids = [self.router.recv_multipart()[0] for _ in range(players)]
        per = max(1, players // LEVELS) if players > 1 else 1
        self.levels = [self.ids[i:i + per] for i in range(0, players, per)]
        self.poller = zmq.Poller()
        self.poller.register(self.router, zmq.POLLIN)

    def run(self, count: int) -> tuple[float, list[float]]:
        send, recv, poll = self.router.send_multipart, self.router.recv_multipart, self.poller.poll
        latencies = []
        t0 = time.perf_counter()
        for n in range(1, count + 1):
            start = time.perf_counter()
            for level in self.levels:
                frame = b'{"type":"trigger","trigger":%d,"attempt":1}' % n
                for identity in level:
                    send([identity, frame])
                for _ in level:
                    if not poll(5000):
                        raise SystemExit("a raw echo peer did not answer within 5 s")
                    recv()
            latencies.append(time.perf_counter() - start)
        return count / (time.perf_counter() - t0), latencies

    def close(self) -> None:
        for identity in self.ids:
            self.router.send_multipart([identity, b"bye"])
        for child in self.children:
            child.stop(5)
        self.router.close(0)
        self.context.term()


class DonkiPeers:
    """An Ensemble with ``players`` noop process players over the same levels."""

    def __init__(self, players: int, log_dir: Path) -> None:
        self.ens = Ensemble(log_dir=log_dir).start()
        per = max(1, players // LEVELS) if players > 1 else 1
        self.ens.add_players([PlayerConfig(f"p{i}", priority=i // per) for i in range(players)], timeout_s=60)

    def run(self, count: int) -> tuple[float, list[float]]:
        start = len(self.ens.journal)
        result = self.ens.run(count=count, ack_timeout_s=5.0, policy="fail")
        if not result.ok:
            raise SystemExit(f"donki run not ok: {result}")
        first: dict[int, float] = {}
        last: dict[int, float] = {}
        for event in self.ens.journal.events[start:]:
            if event.kind is EventKind.TRIGGER_SENT:
                first.setdefault(event.trigger, event.mono)
            elif event.kind is EventKind.ACK:
                last[event.trigger] = event.mono
        return count / result.elapsed_s, [last[n] - first[n] for n in sorted(first)]

    def close(self) -> None:
        self.ens.close()
        self.ens.raise_player_errors()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(case: str, players: int, count: int, rounds: int, log_dir: Path) -> dict[str, dict[str, float]]:
    raw, donki = RawPeers(players, log_dir / f"raw{players}"), DonkiPeers(players, log_dir / f"donki{players}")
    figures: dict[str, dict[str, list[float]]] = {"raw": {"rate": [], "p50": [], "p99": []},
                                                 "donki": {"rate": [], "p50": [], "p99": []}}
    try:
        raw.run(min(count, 200))  # warm both: connections, caches, the players' first setup
        donki.run(min(count, 200))
        for r in range(rounds):
            for name, peers in (("raw", raw), ("donki", donki)):
                rate, latencies = peers.run(count)
                fig = figures[name]
                fig["rate"].append(rate)
                fig["p50"].append(percentile(latencies, 0.50) * 1e3)
                fig["p99"].append(percentile(latencies, 0.99) * 1e3)
                print(f"  round {r + 1} {case:<22} {name:>5}: {rate:8.0f} triggers/s  p50 {fig['p50'][-1]:.3f} ms"
                      f"  p99 {fig['p99'][-1]:.3f} ms", flush=True)
    finally:
        raw.close()
        donki.close()
    return {name: {k: statistics.median(v) for k, v in fig.items()} for name, fig in figures.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size: 3 rounds of fewer triggers")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 5)
    n1, n6 = (1000, 300) if args.quick else (5000, 2000)
    load = os.getloadavg()[0]
    print(f"orchestra benchmark: {rounds} rounds; {n1} triggers with 1 player, {n6} with 6 players over "
          f"{LEVELS} levels; {os.cpu_count()} CPUs, load average {load:.1f}; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="donki-bench-") as tmp:
        one = measure("1 player", 1, n1, rounds, Path(tmp))
        six = measure("6 players / 3 levels", 6, n6, rounds, Path(tmp))
    print(f"\nmedians of {rounds} rounds")
    print(f"{'case':<28}{'triggers/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for case, figures in (("1 player", one), ("6 players / 3 levels", six)):
        for name in ("raw", "donki"):
            f = figures[name]
            label = f"{'raw pyzmq' if name == 'raw' else 'donki'} {case}"
            print(f"{label:<28}{f['rate']:>12.0f}{f['p50']:>10.3f}{f['p99']:>10.3f}")
    print("\ntargets (absolute; where raw pyzmq itself is below a target, the ratio to raw is what counts)")
    for case, figures, target in (("1 player", one, TARGET_1P), ("6 players / 3 levels", six, TARGET_6P)):
        d, r = figures["donki"], figures["raw"]
        verdict = "met" if d["rate"] >= target else f"missed by {target - d['rate']:.0f}/s ({d['rate'] / target:.0%})"
        raw_note = "" if r["rate"] >= target else f"; raw pyzmq itself only {r['rate']:.0f}/s"
        print(f"  {case}: >= {target:.0f} triggers/s: {verdict}{raw_note}")
        p99 = "met" if d["p99"] < TARGET_P99_MS else f"missed ({d['p99']:.3f} ms; raw {r['p99']:.3f} ms)"
        print(f"  {case}: p99 < {TARGET_P99_MS:g} ms: {p99}")
    print(f"\nratio donki/raw pyzmq (triggers/s, medians): 1 player {one['donki']['rate'] / one['raw']['rate']:.2f}, "
          f"6 players / 3 levels {six['donki']['rate'] / six['raw']['rate']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
