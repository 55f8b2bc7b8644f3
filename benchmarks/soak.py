"""Soak: does memory stay flat over a long all-streams run with the recorder?

    python benchmarks/soak.py                      # 10 minutes, samples every 10 s
    python benchmarks/soak.py --duration 120       # a short look
    python benchmarks/soak.py --bootstrap HOST:PORT
    python benchmarks/soak.py --quick               # CI size: 10 s, samples every 2 s, no verdict

Runs the built-in ``all-streams`` scenario (A-E at their rates, run control) for
``--duration`` seconds while recording every topic to HDF5, exactly as ``donki_run``
does, and samples the resident memory (RSS, from ``/proc``) of every process of the run
every ``--interval`` seconds: this process (director, recorder, checks), each player
process and, for the embedded broker, each Kafka JVM. The run's window ends with the last
sample that saw a player process; within it, a process counts as flat when the median of
its last three samples is within ``--tolerance`` (10 %) of the median of its samples from
the first half after ``--warm-up``. The exit code is 0 when every process of the harness
is flat; the JVMs are reported beside them (their heap is Kafka's business). This
process's samples are printed as a timeline, and its peak after the run (summary, counts)
is reported separately.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Series:
    """RSS samples (MB) of one process, by seconds since the start."""

    pid: int
    label: str
    samples: list[tuple[float, float]] = field(default_factory=list)

    def verdict(self, warm_up_s: float, end_s: float, tolerance: float
                ) -> tuple[float | None, float | None, bool | None]:
        steady = [(t, mb) for t, mb in self.samples if warm_up_s <= t <= end_s]
        if len(steady) < 4:
            return None, None, None
        baseline = statistics.median(mb for _, mb in steady[: max(1, len(steady) // 2)])
        final = statistics.median(mb for _, mb in steady[-3:])
        return baseline, final, final <= baseline * (1 + tolerance)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(parent, []).append(int(entry))
    return tree


def _descendants(root: int) -> list[int]:
    tree, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE_KB / 1024
    except (OSError, ValueError, IndexError):
        return None


def _label(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read().decode(errors="replace").split("\0")
    except OSError:
        return "?"
    if pid == os.getpid():
        return "director+recorder (this process)"
    if any("kafka.Kafka" in a for a in argv):
        return "kafka " + Path(argv[-2] if argv[-1] == "" else argv[-1]).parent.name
    if any("player" in a for a in argv):
        return "player " + next((a for a in argv if a.endswith(".json")), " ".join(argv[-2:]))[-60:]
    return " ".join(argv)[:60]


class Sampler:
    """Samples every descendant of this process every ``interval_s`` from a thread."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.series: dict[int, Series] = {}
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(self.interval_s + 5)

    def _loop(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval_s):
                return

    def sample(self) -> None:
        now = time.monotonic() - self._t0
        for pid in _descendants(os.getpid()):
            mb = _rss_mb(pid)
            if mb is None or mb < 5:  # setpriv wrappers and the like
                continue
            series = self.series.setdefault(pid, Series(pid, _label(pid)))
            series.samples.append((now, mb))


def _report(sampler: Sampler, warm_up_s: float, tolerance: float) -> bool:
    players = [s for s in sampler.series.values() if s.label.startswith("player")]
    end_s = max((s.samples[-1][0] for s in players), default=float("inf"))
    own = sampler.series.get(os.getpid())
    if own is not None:
        print("this process over time: " + ", ".join(f"{t:.0f}s {mb:.0f}MB" for t, mb in own.samples))
        after = [mb for t, mb in own.samples if t > end_s]
        if after:
            print(f"this process after the run (summary, counts, checks): peak {max(after):.0f} MB")
    print(f"\nrun window: {warm_up_s:g} s to {end_s:.0f} s (the last sample with players)")
    print(f"{'process':<48} {'samples':>7} {'baseline MB':>11} {'final MB':>9} {'growth':>7}  verdict")
    harness_flat = True
    for series in sorted(sampler.series.values(), key=lambda s: s.label):
        baseline, final, flat = series.verdict(warm_up_s, end_s, tolerance)
        if flat is None:
            continue  # a short-lived helper
        growth = (final - baseline) / baseline * 100
        jvm = series.label.startswith("kafka")
        verdict = "flat" if flat else "GROWS"
        print(f"{series.label:<48} {len(series.samples):>7} {baseline:>11.1f} {final:>9.1f} {growth:>+6.1f}%  "
              f"{verdict}{' (broker JVM: reported, not judged)' if jvm else ''}")
        if not jvm:
            harness_flat = harness_flat and flat
    print(f"\nharness processes flat within {tolerance:.0%}: {'yes' if harness_flat else 'NO'}")
    return harness_flat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="run length in seconds (default 600)")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between RSS samples (default 10)")
    parser.add_argument("--warm-up", type=float, default=30.0, help="seconds left out of the verdict (default 30)")
    parser.add_argument("--tolerance", type=float, default=0.10, help="allowed growth (default 0.10)")
    parser.add_argument("--bootstrap", default=None, help="use this cluster instead of an embedded broker")
    parser.add_argument("--quick", action="store_true", help="CI size: 10 s, every 2 s; prints, does not judge")
    parser.add_argument("--checks", action="store_true", help="also run every check over the recording afterwards")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.interval, args.warm_up = 10.0, 2.0, 2.0

    from harness.checks.config import ChecksConfig
    from harness.kafka import LocalKafka, make_broker
    from harness.runs import RunRequest, SizedScenario, run
    from harness.scenarios import load_scenario

    scenario = load_scenario("all-streams").with_length(duration_s=args.duration)
    broker = make_broker("external", bootstrap=args.bootstrap) if args.bootstrap else LocalKafka()
    with broker, tempfile.TemporaryDirectory(prefix="donki-soak-") as workdir, Sampler(args.interval) as sampler:
        print(f"all-streams for {args.duration:g} s ({scenario.triggers} triggers) on {broker.bootstrap_servers}, "
              f"RSS every {args.interval:g} s", flush=True)
        started = time.monotonic()
        checks = ChecksConfig() if args.checks else ChecksConfig.only()  # only(): recorded, no check run
        outcome = run(RunRequest(SizedScenario.as_given(scenario), broker, workdir=Path(workdir), checks=checks))
        took = time.monotonic() - started
        sampler.sample()
        result = outcome.summary
        size = outcome.recording.stat().st_size / 1e6 if outcome.recording else 0
        failed = [name for name, check in (outcome.checks or {}).items() if not check.passed]
        print(f"run {result.outcome} in {took:.0f} s (checks included: {args.checks}; failed: "
              f"{', '.join(failed) or 'none'}); journal {len(result.journal)} events ({result.journal.spilled} "
              f"spilled to file); recording {size:.0f} MB", flush=True)
    flat = _report(sampler, args.warm_up, args.tolerance)
    return 0 if flat or args.quick else 1  # 10 s say nothing about a trend: --quick only keeps the script runnable


if __name__ == "__main__":
    sys.exit(main())
