"""Per-test overhead of the pytest fixtures, and `pytest --donki-scenario=e-mixed` end to end.

(a) With the broker already up, a trivial scenario (one scalar player, one trigger) runs in
    N tests of one pytest session through ``donki_runner``. The fixture overhead of a test
    is the time pytest spends in its setup and teardown (creating the fixtures; writing the
    report, finishing the golden step and deleting the run's topics), measured with hook
    wrappers: the scenario run itself is the same work with or without pytest. For
    context, the time from the start of setup to the first message in Kafka is printed
    beside the same time for ``harness.runs.run`` (the pipeline) called directly (mostly
    the start of the player process). Target: overhead under 300 ms per test.
(b) The wall time of ``pytest --donki-scenario=e-mixed`` in a fresh process, including
    its own broker start, as a ratio to the bare run time of the same scenario.

    python benchmarks/plugin_overhead.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from harness.kafka import LocalKafka
from harness.recording import Recording
from harness.runs import RunRequest, SizedScenario, run, size_scenario
from harness.scenarios import load_scenario, loads_scenario

ROOT = Path(__file__).resolve().parents[1]
TARGET_OVERHEAD_S = 0.3
TRIVIAL = """
[scenario]
name = "trivial"
rate = 10.0
triggers = 1
[[players]]
stream = "a-scalar"
topic = "bench_trivial"
priority = 0
"""

CONFTEST = '''
import json, time, pytest
STARTS = {}

@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    STARTS[item.nodeid] = time.time()
    try:
        return (yield)
    finally:
        item.user_properties.append(("setup_s", time.time() - STARTS[item.nodeid]))

@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    t0 = time.time()
    try:
        return (yield)
    finally:
        setup = dict(item.user_properties)["setup_s"]
        with open("overhead.jsonl", "a") as out:
            out.write(json.dumps({"setup_s": setup, "teardown_s": time.time() - t0}) + "\\n")

@pytest.fixture()
def test_started(request):
    return STARTS[request.node.nodeid]
'''

TEST = '''
import json, pathlib, pytest
from harness.recording import Recording

@pytest.mark.parametrize("i", range({n}))
def test_trivial(i, test_started, donki_runner):
    run = donki_runner("trivial.toml", golden=False, length="full")
    assert run.ok, run.failure_report()
    with Recording(run.recording) as recording:
        first = min(r.received for r in recording.records())
    with open("latencies.jsonl", "a") as out:
        out.write(json.dumps(first - test_started) + "\\n")
'''


def first_message_after(run, t0: float) -> float:
    with Recording(run.recording) as recording:
        return min(r.received for r in recording.records()) - t0


def bare_first_message(broker, n: int, workdir: Path) -> list[float]:
    scenario = loads_scenario(TRIVIAL, "trivial.toml")
    out = []
    for i in range(n):
        t0 = time.time()
        outcome = run(RunRequest(SizedScenario.as_given(scenario), broker, workdir=workdir / f"bare-{i}"))
        out.append(first_message_after(outcome, t0))
    return out


def fixture_first_message(broker, n: int, workdir: Path) -> tuple[list[float], list[float]]:
    """(start of setup to first message, setup + teardown time) per test."""
    project = workdir / "project"
    project.mkdir()
    (project / "trivial.toml").write_text(TRIVIAL)
    (project / "conftest.py").write_text(CONFTEST)
    (project / "test_trivial.py").write_text(textwrap.dedent(TEST.format(n=n)))
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--donki-kafka=external",
            f"--donki-bootstrap={broker.bootstrap_servers}", "test_trivial.py"]
    proc = subprocess.run(argv, cwd=project, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"fixture run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    latencies = [json.loads(line) for line in (project / "latencies.jsonl").read_text().splitlines()]
    overheads = [json.loads(line) for line in (project / "overhead.jsonl").read_text().splitlines()]
    return latencies, [o["setup_s"] + o["teardown_s"] for o in overheads]


def end_to_end(runs: int, workdir: Path) -> tuple[list[float], list[float]]:
    """Wall times of `pytest --donki-scenario=e-mixed` (own broker) and of the bare run."""
    walls, bare = [], []
    for _ in range(runs):
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "--donki-scenario=e-mixed", "--donki-kafka=local"], cwd=ROOT, capture_output=True,
                              text=True, timeout=900)
        walls.append(time.monotonic() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"pytest --donki-scenario=e-mixed failed:\n{proc.stdout[-3000:]}")
    sized = size_scenario(load_scenario("e-mixed"))
    with LocalKafka() as broker:
        for i in range(runs):
            outcome = run(RunRequest(sized, broker, workdir=workdir / f"e2e-{i}"))
            bare.append(outcome.summary.elapsed_s)
    return walls, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI)")
    args = parser.parse_args()
    n = 4 if args.quick else 12
    runs = 1 if args.quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with LocalKafka() as broker:
            bare_first_message(broker, 1, workdir / "warm")  # first imports and producer set-up
            bare = bare_first_message(broker, n, workdir)
            fixture, overheads = fixture_first_message(broker, n, workdir)
        b, f = statistics.median(bare), statistics.median(fixture)
        overhead = statistics.median(overheads)
        verdict = "meets" if overhead < TARGET_OVERHEAD_S else "MISSES"
        print(f"(a) fixture overhead (setup + teardown) per test: {overhead * 1e3:.0f} ms median of {n} "
              f"(min {min(overheads) * 1e3:.0f}, max {max(overheads) * 1e3:.0f}) "
              f"[{verdict} target < {TARGET_OVERHEAD_S * 1e3:.0f} ms]")
        print(f"    start to first message (context, noisy: mostly a player process starting): through the "
              f"fixtures {f * 1e3:.0f} ms, bare pipeline {b * 1e3:.0f} ms (medians of {n}); ratio {f / b:.2f}")
        walls, bare_runs = end_to_end(runs, workdir)
        w, r = statistics.median(walls), statistics.median(bare_runs)
        print(f"(b) pytest --donki-scenario=e-mixed incl. broker start: {w:.1f} s wall (median of {runs}); "
              f"bare scenario run {r:.2f} s; ratio {w / r:.1f}")
        print("JSON " + json.dumps({"bare_first_message_s": bare, "fixture_first_message_s": fixture,
                                    "overhead_s": overheads, "pytest_wall_s": walls, "bare_run_s": bare_runs}))


if __name__ == "__main__":
    main()
