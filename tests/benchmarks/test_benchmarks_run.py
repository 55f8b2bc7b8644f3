"""Every benchmark runs in CI at its reduced (--quick) size and prints its figures.

Nothing here judges speed (this machine is shared; timed tests would be noise): the
benchmarks print their ratios and verdicts, and these tests keep them runnable.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

EXPECTED = {
    "kafka_broker.py": ["start nodes=1: ready", "start nodes=3: ready", "raw confluent-kafka 1kB (",
                        "raw confluent-kafka 8MB (", "Kafka ProducerPerformance", "(prebuilt payloads)",
                        "| ConsumerPerformance", "kcat", "A/B order per run", "load average before",
                        "container vs local:"],
    "orchestra.py": ["raw pyzmq 1 player", "donki 8 players / 1 level", "donki 6 players / 3 levels",
                     "ratio donki/raw pyzmq", "CPU per trigger donki/raw"],
    "streams.py": ["(a) ev44 generator+serialiser", "(b) producer path, ev44 8 MB", "(b) producer path, f144 1 kB",
                   "(c) ess-pulse 1e6 events/pulse at 14 Hz with the recorder",
                   "(c) ess-instrument 1e6 events/pulse at 14 Hz with the recorder",
                   "(c) ess-pulse highest sustained:", "(c) ess-instrument highest sustained:"],
    "recording.py": ["recorder  8 MB:", "recorder  1 kB:", "recorder loop  ev44:", "views cost, ",
                     "ratio views/no-views",
                     "close latency    views, ess-pulse", "close latency no-views, ess-pulse",
                     "replay timing   1000 Hz", "replay timing     14 Hz", "replay fast  8 MB:"],
    "rate_verdicts.py": ["correct ess-pulse, 3 runs of 5 triggers with a decoding consumer:",
                         "ess-pulse at 80% of its rate, 1 runs of 20 triggers checked against 14 Hz: 1 of 1 failed"],
    "filewriter.py": ["recorder:", "writer:", "writer/recorder throughput ratio:", "writer keeps real time:"],
    "soak.py": ["RSS every", "run window:", "harness processes flat within"],
    "replay_timing.py": ["replay timing   1000 Hz", "replay timing     14 Hz", "  at delivery: interval error p50",
                         "  at the send: interval error p99", "ack round trip p50",
                         "target p99 interval error at delivery < 1 ms:", "order per run", "load average before"],
    "peer_plugins.py": ["function-scoped broker fixtures", "pytest-donki         pytest start to first acked produce",
                        "pytest-kafka-broker", "order per run", "load average before"],
    "plugin_overhead.py": ["(a) fixture overhead (setup + teardown) per test",
                           "(b) pytest --donki-scenario=e-mixed incl. broker start"],
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_benchmark_runs_at_ci_size_and_prints_its_figures(script):
    result = subprocess.run([sys.executable, str(BENCHMARKS / script), "--quick"], capture_output=True, text=True,
                            timeout=900, cwd=BENCHMARKS.parent)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    missing = [line for line in EXPECTED[script] if line not in result.stdout]
    assert not missing, f"{script} did not print {missing}:\n{result.stdout[-3000:]}"


def test_every_benchmark_script_is_covered():
    assert {p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_")} == set(EXPECTED)
