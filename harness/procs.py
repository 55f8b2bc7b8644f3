"""Child processes that never outlive the test session.

Every child is started in its own session (so a terminal Ctrl-C reaches only us and
we stop children in order) and, where util-linux ``setpriv`` exists, with a parent
death signal, so even a SIGKILLed session leaves no broker or player behind. Children
still running at interpreter exit are killed by an ``atexit`` hook.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import os
import shutil
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = ["Child", "spawn", "reap_all", "tail_text", "wait_until"]

STOP_GRACE_S = 15.0
KILL_WAIT_S = 5.0

_LIVE: weakref.WeakSet[Child] = weakref.WeakSet()
_LOCK = threading.Lock()


def _death_signal_prefix() -> list[str]:
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


class Child:
    """A child process with its output in a log file."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], log_path: Path):
        self.name = name
        self.popen = popen
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def signal(self, signum: int) -> None:
        if self.alive():
            try:
                os.kill(self.popen.pid, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """SIGKILL and reap, as a crash would."""
        self.signal(signal.SIGKILL)
        self._wait(KILL_WAIT_S)

    def stop(self, grace_s: float = STOP_GRACE_S) -> int | None:
        """SIGTERM, wait up to ``grace_s``, then SIGKILL; always reaps."""
        if self.alive():
            self.signal(signal.SIGTERM)
            if not self._wait(grace_s):
                self.kill()
        else:
            self._wait(0)
        return self.popen.returncode

    def _wait(self, timeout: float) -> bool:
        try:
            self.popen.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def log_tail(self, lines: int = 40) -> str:
        return tail_text(self.log_path, lines)


_SPAWNER: concurrent.futures.ThreadPoolExecutor | None = None


def _spawner() -> concurrent.futures.ThreadPoolExecutor:
    global _SPAWNER
    with _LOCK:
        if _SPAWNER is None:
            _SPAWNER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="donki-spawner")
        return _SPAWNER


def _popen(argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None,
           cwd: Path | None) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [*_death_signal_prefix(), *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
            cwd=cwd,
            start_new_session=True,
        )


def spawn(
    name: str,
    argv: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Child:
    """Start ``argv`` with stdout and stderr appended to ``log_path``.

    The parent-death signal follows the *thread* that forked, not the process: a child
    started from a short-lived thread (a broker restarted by a fault injector) would be
    killed when that thread ends. Children of other threads than the main one are
    therefore forked by one spawner thread that lives as long as the process.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if threading.current_thread() is threading.main_thread():
        popen = _popen(argv, log_path, env, cwd)
    else:
        popen = _spawner().submit(_popen, argv, log_path, env, cwd).result()
    child = Child(name, popen, log_path)
    with _LOCK:
        _LIVE.add(child)
    return child


def reap_all() -> None:
    """Kill every child still running (interpreter exit, interrupted session)."""
    with _LOCK:
        children = list(_LIVE)
    for child in children:
        if child.alive():
            child.kill()


def tail_text(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a text file, or a note that it is missing."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"<no log at {path}: {exc.strerror}>"
    return "\n".join(data.splitlines()[-lines:])


def wait_until(predicate: Callable[[], object], timeout_s: float, interval_s: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout_s`` passed; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


atexit.register(reap_all)
