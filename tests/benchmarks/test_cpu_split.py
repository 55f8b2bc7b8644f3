"""The benchmarks' CPU split counts a process that exits once, under the name it ran with."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from _cpu_split import CpuSplit  # noqa: E402

BURN = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end:\n    pass\n"


def _state(pid: int) -> str:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2]


def test_an_exited_unreaped_child_is_counted_once_under_its_name():
    with CpuSplit(interval_s=0.05) as split:
        child = subprocess.Popen([sys.executable, "-c", BURN, "worker.json"])
        deadline = time.monotonic() + 30
        while _state(child.pid) != "Z":  # exited, not reaped: its stat is readable, its command line is gone
            assert time.monotonic() < deadline, "the child did not finish burning"
            time.sleep(0.01)
        time.sleep(0.3)  # several samples of the exited child
        child.wait(10)
    seconds = split.seconds()
    assert not [g for g in seconds if g.startswith("pid ")], seconds
    assert 0.3 <= seconds["player worker"] <= 0.8, seconds
