"""Running ``donki`` as a user would: in a real terminal (a pty) or with its output in a pipe."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


@dataclass
class Done:
    returncode: int
    out: str  # a pty mixes stdout and stderr, as a user sees them; ANSI codes removed
    raw: str = ""
    err: str = ""


def _env(env: dict[str, str] | None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "DONKI_BOOTSTRAP"}
    return {**base, "COLUMNS": "140", "LINES": "40", "TERM": "xterm-256color", **(env or {})}


def in_pipe(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Done:
    result = subprocess.run([sys.executable, "-m", "harness", *args], check=False, capture_output=True, text=True,
                            timeout=timeout, env=_env(env))
    return Done(result.returncode, result.stdout, result.stdout, result.stderr)


def in_terminal(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Done:
    """The command with stdin, stdout and stderr on one pseudo-terminal; everything it wrote, and its exit code."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "harness", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=_env(env), close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    raw = b"".join(chunks).decode(errors="replace")
    return Done(code, ANSI.sub("", raw), raw)
