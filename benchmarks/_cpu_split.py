"""Where the cores go during a run: CPU seconds of this process's threads and of its children.

A sampler thread reads ``/proc/<pid>/task/<tid>/stat`` (user + system time) of this process
and every descendant every ``interval_s``; a process that ends keeps its last reading and the
label it had when first seen (an exiting process has no command line: labelled again, its CPU
was counted twice, under ``pid N``, until 2026-11-29 evening). The
split groups them as the report needs: the broker (``java``), each player process (by its
config file's name), and this process's threads by name (the recorder's
``donki-recorder-*``, the director, the rest). Linux only; elsewhere the split is empty.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROC = Path("/proc")


def _cpu_s(stat: Path) -> tuple[str, float] | None:
    try:
        text = stat.read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return name, (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in (PROC / str(pid) / "task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _thread_group(python_name: str | None, comm: str) -> str:
    """This process's threads: the recorder's, librdkafka's (the recorder's consumer and the
    pipeline's admin clients), the rest by their Python name."""
    if python_name and python_name.startswith("donki-recorder"):
        return "this process: recorder thread"
    if comm.startswith("rdk:"):
        return "this process: librdkafka threads"
    return f"this process: {python_name or comm}"


def _label(pid: int) -> str:
    try:
        argv = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    if argv and argv[0].endswith(b"java"):
        return "broker (java)"
    configs = [a for a in argv if a.endswith(b".json")]
    if configs:
        return "player " + Path(configs[0].decode()).stem
    return Path(argv[0].decode(errors="replace")).name if argv and argv[0] else f"pid {pid}"


class CpuSplit:
    """Samples CPU seconds while it runs (``with CpuSplit() as split: ...``; then :meth:`seconds`)."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self._start: dict[str, float] = {}
        self._last: dict[tuple[int, str], float] = {}
        self._labels: dict[int, str] = {}  # a child's label when first seen: an exiting one has no cmdline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-split", daemon=True)

    def __enter__(self) -> CpuSplit:
        self._sample()
        self._start = self._grouped()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        me = os.getpid()
        python_names = {t.native_id: t.name for t in threading.enumerate()}
        for task in (PROC / str(me) / "task").glob("*"):
            reading = _cpu_s(task / "stat")
            if reading:
                self._last[(int(task.name), _thread_group(python_names.get(int(task.name)), reading[0]))] = reading[1]
        pending = _children(me)
        while pending:
            pid = pending.pop()
            reading = _cpu_s(PROC / str(pid) / "stat")
            if reading:
                label = self._labels.get(pid)
                if label is None:
                    label = self._labels[pid] = _label(pid)
                self._last[(pid, label)] = reading[1]
            pending += _children(pid)

    def _grouped(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for (_, group), seconds in self._last.items():
            out[group] = out.get(group, 0.0) + seconds
        return out

    def seconds(self) -> dict[str, float]:
        """CPU seconds per group spent between enter and exit, largest first."""
        end = self._grouped()
        spent = {g: s - self._start.get(g, 0.0) for g, s in end.items()}
        return dict(sorted(((g, s) for g, s in spent.items() if s > 0.005), key=lambda kv: -kv[1]))
