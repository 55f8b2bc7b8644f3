"""Director/Player throughput and latency against a raw pyzmq ROUTER/DEALER peer, in one run.

    python benchmarks/orchestra.py                 # 5 rounds of every shape
    python benchmarks/orchestra.py --quick         # CI size: 3 rounds of fewer triggers
    python benchmarks/orchestra.py --shape 8x1     # one shape (players x levels), repeatable

Shapes: 1, 2, 4 and 8 players in one level, and 6 players over 3 levels. Both sides use
as many separate player processes as the shape has, on loopback TCP. The raw peer is the
floor the machine allows, doing the same work with nothing else: a ROUTER that sends each
level's trigger frame (the very bytes the director sends) to the level's DEALERs at once
and waits for every answer before the next level (the same barrier), each DEALER
answering with an ack frame of the director's ack size; blocking receives with a
timeout, no registry, journal, deadlines or decoding.

Each round runs both sides back to back, the order alternating (raw first in odd rounds,
donki first in even ones) so that machine noise hits both alike; every round prints its
order, both figures and the load average. The summary gives medians with their spread
(min-max), the donki/raw ratio of the medians and of each round, and the verdicts: a
target "sustained" holds in every round, not just the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.orchestra import Ensemble, EventKind, PlayerConfig  # noqa: E402
from harness.procs import spawn  # noqa: E402

RATIO_TARGET = 0.85  # donki triggers/s over raw pyzmq's, every shape
P99_FACTOR_TARGET = 1.25  # donki p99 within this factor of raw pyzmq's p99
TARGET_1P = 5000.0  # the absolute targets of the first issue (quiet machine)
TARGET_6P = 1000.0
ANSWER_TIMEOUT_MS = 5000

# The raw DEALER answers a trigger frame b'{"type":"trigger",...}' with the director's ack
# frame b'{"type":"ack",...,"counts":{}}': same fields, same size, by slicing, not parsing.
ECHO = r"""
import sys, zmq
ctx = zmq.Context(); s = ctx.socket(zmq.DEALER); s.linger = 0; s.connect(sys.argv[1]); s.send(b"hello")
recv, send = s.recv, s.send
while True:
    frame = recv()
    if frame == b"bye":
        break
    send(b'{"type":"ack"' + frame[17:-1] + b',"counts":{}}')
"""


@dataclass(frozen=True)
class Shape:
    players: int
    levels: int
    count: int  # triggers per round
    quick_count: int

    @property
    def key(self) -> str:
        return f"{self.players}x{self.levels}"

    @property
    def label(self) -> str:
        if self.players == 1:
            return "1 player"
        return f"{self.players} players / {self.levels} level{'s' if self.levels > 1 else ''}"

    def level_of(self, index: int) -> int:
        return index * self.levels // self.players


SHAPES = (Shape(1, 1, 5000, 1000), Shape(2, 1, 4000, 800), Shape(4, 1, 3000, 600), Shape(8, 1, 2000, 400),
          Shape(6, 3, 2000, 300))


@dataclass(frozen=True)
class Round:
    """One side's figures of one round."""

    rate: float  # triggers/s
    latencies: list[float]  # s, first trigger sent to last answer, per trigger
    cpu_here: float  # s, this process (director or raw ROUTER), all threads, during the triggers only
    cpu_players: float  # s, the player processes together


class Peers(Protocol):
    pids: list[int]  # the player processes

    def run(self, count: int) -> Round: ...

    def close(self) -> None: ...


def cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """CPU time of this process (all its threads) and of ``pids`` (all theirs) together.

    Unlike triggers/s, CPU time per trigger hardly depends on what else the machine runs.
    Read from the scheduler's per-thread run time (ns) on Linux; clock ticks elsewhere.
    """
    return _run_time("self") or sum(os.times()[:2]), sum(_run_time(str(pid)) for pid in pids)


def _run_time(pid: str) -> float:
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
    return total / 1e9


class RawPeers:
    """A ROUTER here and answering DEALER processes over the shape's levels: the floor."""

    def __init__(self, shape: Shape, log_dir: Path) -> None:
        import zmq

        self.context = zmq.Context()
        self.router = self.context.socket(zmq.ROUTER)
        self.router.linger = 0
        self.router.rcvtimeo = ANSWER_TIMEOUT_MS
        port = self.router.bind_to_random_port("tcp://127.0.0.1")
        self.children = [spawn(f"echo{i}", [sys.executable, "-c", ECHO, f"tcp://127.0.0.1:{port}"],
                               log_dir / f"echo{i}.log") for i in range(shape.players)]
        self.router.rcvtimeo = 60_000  # cold Python starts on a loaded machine
        self.ids = [self.router.recv_multipart()[0] for _ in range(shape.players)]
        self.pids = [child.pid for child in self.children]
        self.router.rcvtimeo = ANSWER_TIMEOUT_MS
        levels: dict[int, list[bytes]] = {}
        for index, identity in enumerate(self.ids):
            levels.setdefault(shape.level_of(index), []).append(identity)
        self.levels = [levels[level] for level in sorted(levels)]
        self.run_id = 0

    def run(self, count: int) -> Round:
        import zmq

        self.run_id += 1
        send, recv, clock, more = self.router.send, self.router.recv_multipart, time.perf_counter, zmq.SNDMORE
        latencies = []
        cpu0 = cpu_seconds(self.pids)
        t0 = clock()
        try:
            for n in range(1, count + 1):
                start = clock()
                frame = b'{"type":"trigger","run":%d,"trigger":%d,"attempt":1}' % (self.run_id, n)
                for level in self.levels:
                    for identity in level:
                        send(identity, more)
                        send(frame)
                    for _ in level:
                        recv()
                latencies.append(clock() - start)
        except zmq.Again:
            raise SystemExit(f"a raw peer did not answer within {ANSWER_TIMEOUT_MS} ms") from None
        rate = count / (clock() - t0)
        cpu1 = cpu_seconds(self.pids)
        return Round(rate, latencies, cpu1[0] - cpu0[0], cpu1[1] - cpu0[1])

    def close(self) -> None:
        for identity in self.ids:
            self.router.send_multipart([identity, b"bye"])
        for child in self.children:
            child.stop(5)
        self.router.close(0)
        self.context.term()


class DonkiPeers:
    """An Ensemble with the shape's noop process players over its levels."""

    def __init__(self, shape: Shape, log_dir: Path) -> None:
        self.ens = Ensemble(log_dir=log_dir).start()
        self.ens.add_players([PlayerConfig(f"p{i}", priority=shape.level_of(i)) for i in range(shape.players)],
                             timeout_s=60)
        pool = self.ens.pool
        self.pids = [] if pool is None else [handle.pid for handle in pool.handles()]

    def run(self, count: int) -> Round:
        start = len(self.ens.journal)
        cpu0 = cpu_seconds(self.pids)
        result = self.ens.run(count=count, ack_timeout_s=ANSWER_TIMEOUT_MS / 1000, policy="fail")
        cpu1 = cpu_seconds(self.pids)
        if not result.ok:
            raise SystemExit(f"donki run not ok: {result}")
        first: dict[int, float] = {}
        last: dict[int, float] = {}
        for index, event in enumerate(self.ens.journal):
            if index < start:
                continue
            if event.kind is EventKind.TRIGGER_SENT:
                first.setdefault(event.trigger or 0, event.mono)
            elif event.kind is EventKind.ACK:
                last[event.trigger or 0] = event.mono
        return Round(count / result.elapsed_s, [last[n] - first[n] for n in sorted(first)], cpu1[0] - cpu0[0],
                     cpu1[1] - cpu0[1])

    def close(self) -> None:
        self.ens.close()
        self.ens.raise_player_errors()


@dataclass
class Figures:
    rate: list[float]
    p50: list[float]  # ms
    p99: list[float]  # ms
    cpu_here: list[float]  # us per trigger: director (or raw ROUTER) process, all threads
    cpu_players: list[float]  # us per trigger: the player processes together


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def spread(values: list[float], fmt: str) -> str:
    """Median (min-max)."""
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def measure(shape: Shape, count: int, rounds: int, log_dir: Path) -> dict[str, Figures]:
    raw = RawPeers(shape, log_dir / f"raw{shape.key}")
    donki = DonkiPeers(shape, log_dir / f"donki{shape.key}")
    sides: dict[str, Peers] = {"raw": raw, "donki": donki}
    figures = {name: Figures([], [], [], [], []) for name in sides}
    try:
        for peers in sides.values():  # warm both: connections, caches, the players' first setup
            peers.run(min(count, 200))
        for r in range(1, rounds + 1):
            order = ("raw", "donki") if r % 2 else ("donki", "raw")
            for name in order:
                done = sides[name].run(count)
                fig = figures[name]
                fig.rate.append(done.rate)
                fig.p50.append(percentile(done.latencies, 0.50) * 1e3)
                fig.p99.append(percentile(done.latencies, 0.99) * 1e3)
                fig.cpu_here.append(done.cpu_here / count * 1e6)
                fig.cpu_players.append(done.cpu_players / count * 1e6)
            raw_f, donki_f = figures["raw"], figures["donki"]
            print(f"  round {r} {shape.label:<20} order {order[0]}>{order[1]:<5}  raw {raw_f.rate[-1]:7.0f}/s "
                  f"p99 {raw_f.p99[-1]:6.3f} ms  donki {donki_f.rate[-1]:7.0f}/s p99 {donki_f.p99[-1]:6.3f} ms  "
                  f"ratio {donki_f.rate[-1] / raw_f.rate[-1]:.2f}  load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        raw.close()
        donki.close()
    return figures


def verdicts(shape: Shape, figures: dict[str, Figures]) -> list[str]:
    raw, donki = figures["raw"], figures["donki"]
    ratios = [d / r for d, r in zip(donki.rate, raw.rate, strict=True)]
    p99_factors = [d / r for d, r in zip(donki.p99, raw.p99, strict=True)]
    median_ratio = statistics.median(donki.rate) / statistics.median(raw.rate)
    median_p99 = statistics.median(donki.p99) / statistics.median(raw.p99)

    def verdict(median: float, per_round: list[float], ok: bool, sustained: bool) -> str:
        state = "met, sustained" if sustained else ("met (median), not in every round" if ok else "missed")
        return f"{median:.2f}; per round {spread(per_round, '.2f')}: {state}"

    lines = [f"  {shape.label}: ratio >= {RATIO_TARGET}: "
             + verdict(median_ratio, ratios, median_ratio >= RATIO_TARGET, min(ratios) >= RATIO_TARGET),
             f"  {shape.label}: p99 <= {P99_FACTOR_TARGET}x raw: "
             + verdict(median_p99, p99_factors, median_p99 <= P99_FACTOR_TARGET, max(p99_factors) <= P99_FACTOR_TARGET)]
    cpu = [statistics.median(getattr(donki, f)) / max(1e-9, statistics.median(getattr(raw, f)))
           for f in ("cpu_here", "cpu_players")]
    lines.append(f"  {shape.label}: CPU per trigger donki/raw: director {cpu[0]:.2f}x, players {cpu[1]:.2f}x")
    absolute = {"1x1": TARGET_1P, "6x3": TARGET_6P}.get(shape.key)
    if absolute is not None:
        rate = statistics.median(donki.rate)
        raw_rate = statistics.median(raw.rate)
        note = "met" if rate >= absolute else f"missed ({rate / absolute:.0%}; raw pyzmq {raw_rate:.0f}/s)"
        lines.append(f"  {shape.label}: >= {absolute:.0f} triggers/s (absolute, quiet machine): {note}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size: 3 rounds of fewer triggers")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--shape", action="append", choices=[s.key for s in SHAPES],
                        help="players x levels to run (default: all)")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 5)
    shapes = [s for s in SHAPES if args.shape is None or s.key in args.shape]
    counts = {s.key: s.quick_count if args.quick else s.count for s in shapes}
    print(f"orchestra benchmark: {rounds} rounds per shape, A/B order alternating; triggers per round "
          + ", ".join(f"{s.label} {counts[s.key]}" for s in shapes)
          + f"; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}")
    results: list[tuple[Shape, dict[str, Figures]]] = []
    with tempfile.TemporaryDirectory(prefix="donki-bench-") as tmp:
        for shape in shapes:
            results.append((shape, measure(shape, counts[shape.key], rounds, Path(tmp))))
    print(f"\nmedians of {rounds} rounds (min-max); load average now {os.getloadavg()[0]:.1f}")
    print(f"{'case':<34}{'triggers/s':>22}{'p50 ms':>24}{'p99 ms':>24}{'CPU us/trigger here + players':>32}")
    for shape, figures in results:
        for name in ("raw", "donki"):
            f = figures[name]
            label = f"{'raw pyzmq' if name == 'raw' else 'donki'} {shape.label}"
            cpu = f"{statistics.median(f.cpu_here):.0f} + {statistics.median(f.cpu_players):.0f}"
            print(f"{label:<34}{spread(f.rate, '.0f'):>22}{spread(f.p50, '.3f'):>24}{spread(f.p99, '.3f'):>24}"
                  f"{cpu:>32}")
    print("\ntargets (ratio of medians; 'sustained' = in every round)")
    for shape, figures in results:
        print("\n".join(verdicts(shape, figures)))
    print("\nratio donki/raw pyzmq (triggers/s, medians): " + ", ".join(
        f"{shape.label} {statistics.median(f['donki'].rate) / statistics.median(f['raw'].rate):.2f}"
        for shape, f in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
