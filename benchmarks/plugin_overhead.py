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

Both parts alternate the A/B order between rounds (and print it), give medians with min-max
and the load average before and after.

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

from _rounds import load_text

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
    project.mkdir(parents=True)
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


def end_to_end(runs: int, workdir: Path) -> tuple[list[float], list[float], list[str]]:
    """Wall times of `pytest --donki-scenario=e-mixed` (own broker) and of the bare run, order alternated.

    The bare runs share one broker started beforehand (its start is not in their time); it idles
    while the pytest runs go.
    """
    walls: list[float] = []
    bare: list[float] = []
    orders = []
    sized = size_scenario(load_scenario("e-mixed"))
    with LocalKafka() as broker:
        def pytest_wall() -> None:
            t0 = time.monotonic()
            proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   "--donki-scenario=e-mixed", "--donki-kafka=local"], cwd=ROOT,
                                  capture_output=True, text=True, timeout=900)
            walls.append(time.monotonic() - t0)
            if proc.returncode != 0:
                raise SystemExit(f"pytest --donki-scenario=e-mixed failed:\n{proc.stdout[-3000:]}")

        def bare_run() -> None:
            outcome = run(RunRequest(sized, broker, workdir=workdir / f"e2e-{len(bare)}"))
            bare.append(outcome.summary.elapsed_s)

        for i in range(runs):
            order = (("pytest", pytest_wall), ("bare", bare_run)) if i % 2 == 0 else \
                (("bare", bare_run), ("pytest", pytest_wall))
            orders.append("/".join(name for name, _ in order))
            for _, step in order:
                step()
    return walls, bare, orders


def spread(values: list[float], scale: float = 1.0, unit: str = "") -> str:
    return (f"{statistics.median(values) * scale:.2f}{unit} "
            f"({min(values) * scale:.2f}-{max(values) * scale:.2f})")


def first_messages(broker, n: int, rounds: int, workdir: Path) -> tuple[list[float], list[float], list[float],
                                                                         list[str]]:
    """Bare pipeline and fixtures, ``rounds`` times each with n/rounds tests, the order alternated."""
    bare: list[float] = []
    fixture: list[float] = []
    overheads: list[float] = []
    orders = []
    per_round = max(1, n // rounds)
    for r in range(rounds):
        steps = [("bare", lambda r=r: bare.extend(bare_first_message(broker, per_round, workdir / f"bare-{r}"))),
                 ("fixtures", lambda r=r: _extend(fixture, overheads,
                                                  fixture_first_message(broker, per_round, workdir / f"fix-{r}")))]
        if r % 2:
            steps.reverse()
        orders.append("/".join(name for name, _ in steps))
        for _, step in steps:
            step()
    return bare, fixture, overheads, orders


def _extend(fixture: list[float], overheads: list[float], got: tuple[list[float], list[float]]) -> None:
    fixture.extend(got[0])
    overheads.extend(got[1])
    FIRST_OF_SESSION.append(got[1][0])


#: the overhead of each pytest session's first test (session-scoped fixtures are set up in it)
FIRST_OF_SESSION: list[float] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI)")
    args = parser.parse_args()
    n = 4 if args.quick else 12
    runs = 2 if args.quick else 3
    print(f"load average before {load_text()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with LocalKafka() as broker:
            bare_first_message(broker, 1, workdir / "warm")  # first imports and producer set-up
            bare, fixture, overheads, orders = first_messages(broker, n, 2, workdir)
        b, f = statistics.median(bare), statistics.median(fixture)
        overhead = statistics.median(overheads)
        worst = max(overheads)
        verdict = ("meets, every test" if worst < TARGET_OVERHEAD_S else
                   "meets at the median, not in every test" if overhead < TARGET_OVERHEAD_S else "MISSES")
        print(f"(a) fixture overhead (setup + teardown) per test: {spread(overheads, 1e3, ' ms')} median of "
              f"{len(overheads)} (min-max) [{verdict} target < {TARGET_OVERHEAD_S * 1e3:.0f} ms]")
        later = list(overheads)
        for first in FIRST_OF_SESSION:
            later.remove(first)
        print(f"    first test of each pytest session {spread(FIRST_OF_SESSION, 1e3, ' ms')}; later tests "
              f"{spread(later, 1e3, ' ms') if later else 'none'}")
        print(f"    start to first message (context, noisy: mostly a player process starting): through the "
              f"fixtures {spread(fixture, 1e3, ' ms')}, bare pipeline {spread(bare, 1e3, ' ms')} (medians, "
              f"min-max); ratio {f / b:.2f}; order per round {', '.join(orders)}")
        walls, bare_runs, e2e_orders = end_to_end(runs, workdir)
        w, r = statistics.median(walls), statistics.median(bare_runs)
        print(f"(b) pytest --donki-scenario=e-mixed incl. broker start: {spread(walls, 1, ' s')} wall (median of "
              f"{runs}, min-max); bare scenario run {spread(bare_runs, 1, ' s')}; ratio {w / r:.1f}; order per run "
              f"{', '.join(e2e_orders)}")
        print(f"load average after {load_text()}")
        print("JSON " + json.dumps({"bare_first_message_s": bare, "fixture_first_message_s": fixture,
                                    "overhead_s": overheads, "pytest_wall_s": walls, "bare_run_s": bare_runs,
                                    "orders": orders, "e2e_orders": e2e_orders}))


if __name__ == "__main__":
    main()
