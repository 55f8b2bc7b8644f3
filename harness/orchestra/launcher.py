"""Starting players as OS processes (or, for unit tests, threads), and reaping them.

Processes are started with :func:`harness.procs.spawn` from a JSON config file, so they
never outlive the session; their output goes to one log file each. Whatever ends a
player abnormally (non-zero exit, exception in a thread) becomes a
:class:`~harness.errors.PlayerFailed` with its log tail or traceback in the shared
:class:`~harness.orchestra.failures.FailureLog`.
"""

from __future__ import annotations

import abc
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, DonkiError, PlayerError, PlayerFailed
from harness.orchestra.failures import FailureLog
from harness.orchestra.player import EXIT_DIRECTOR_LOST, Player, PlayerExit
from harness.orchestra.player_config import PlayerConfig
from harness.orchestra.security import CurveClient
from harness.procs import Child, spawn

__all__ = ["PlayerHandle", "ProcessPlayer", "ThreadPlayer", "PlayerPool", "MODES"]

MODES = ("process", "thread")
#: player name -> the command prefix that runs its process where it belongs
LaunchPrefix = Callable[[str], Sequence[str]]
STOP_GRACE_S = 5.0
LOG_TAIL_LINES = 60


class PlayerHandle(abc.ABC):
    """A started player; ``mode`` is ``process`` or ``thread``."""

    name: str
    mode: str

    @abc.abstractmethod
    def alive(self) -> bool:
        """Whether it still runs."""

    @abc.abstractmethod
    def stop(self, timeout_s: float = STOP_GRACE_S) -> None:
        """Ask it to leave (teardown, bye) and wait; a process is killed after ``timeout_s``."""

    @abc.abstractmethod
    def wait(self, timeout_s: float) -> bool:
        """Wait until it ended by itself; True if it did."""

    @abc.abstractmethod
    def failure(self) -> PlayerFailed | None:
        """How it failed, once it ended abnormally."""

    @abc.abstractmethod
    def log_text(self, lines: int = LOG_TAIL_LINES) -> str:
        """The tail of its log."""


class ProcessPlayer(PlayerHandle):
    mode = "process"

    def __init__(self, config: PlayerConfig, log_dir: Path, prefix: Sequence[str] = ()) -> None:
        self.name = config.name
        self.config = config
        self.config_path = log_dir / f"{config.name}.json"
        self.config_path.write_text(config.to_json())
        self.log_path = log_dir / f"{config.name}.log"
        self._ended_on_purpose = False
        argv = [*prefix, sys.executable, "-m", "harness.orchestra.player_process", str(self.config_path)]
        self.child: Child = spawn(f"player {config.name}", argv, self.log_path)

    @property
    def pid(self) -> int:
        return self.child.pid

    def alive(self) -> bool:
        return self.child.alive()

    def stop(self, timeout_s: float = STOP_GRACE_S) -> None:
        self._ended_on_purpose = self._ended_on_purpose or self.alive()
        self.child.stop(timeout_s)

    def kill(self) -> None:
        """SIGKILL: a crash as the director sees it."""
        self._ended_on_purpose = self._ended_on_purpose or self.alive()
        self.child.kill()

    def wait(self, timeout_s: float) -> bool:
        try:
            self.child.popen.wait(timeout=timeout_s)
            return True
        except subprocess.TimeoutExpired:
            return False

    def failure(self) -> PlayerFailed | None:
        code = self.child.returncode
        if code is None or code == 0 or (self._ended_on_purpose and code in (-signal.SIGTERM, -signal.SIGKILL)):
            return None
        what = ("stopped because its director vanished" if code == EXIT_DIRECTOR_LOST
                else f"process {self.pid} exited with code {code}")
        return PlayerFailed(self.name, what, f"log {self.log_path}:\n{self.log_text()}")

    def log_text(self, lines: int = LOG_TAIL_LINES) -> str:
        return self.child.log_tail(lines)


class ThreadPlayer(PlayerHandle):
    mode = "thread"

    def __init__(self, config: PlayerConfig, action: Any = None) -> None:
        self.name = config.name
        self.config = config
        self.stop_event = threading.Event()
        self.player = Player(config, action, stop_event=self.stop_event, mode="thread")
        self.outcome: str | None = None
        self._failure: PlayerFailed | None = None
        self._thread = threading.Thread(target=self._main, name=f"donki-player-{config.name}", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            self.outcome = self.player.run()
            if self.outcome == PlayerExit.DIRECTOR_LOST:
                self._failure = PlayerFailed(self.name, "stopped because its director vanished")
        except PlayerFailed as exc:
            self._failure = exc
        except DonkiError as exc:
            self._failure = PlayerFailed(self.name, f"could not start: {exc}")
        except BaseException:  # noqa: BLE001 - kept for the test; a thread has nobody else to tell
            self._failure = PlayerFailed(self.name, "raised in its thread", traceback.format_exc())

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout_s: float = STOP_GRACE_S) -> None:
        self.stop_event.set()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise PlayerError(f"thread player {self.name!r} did not stop within {timeout_s:g} s "
                              "(its action ignores the stop event?)")

    def wait(self, timeout_s: float) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def vanish(self, timeout_s: float = STOP_GRACE_S) -> None:
        """End the thread without teardown or bye: what a crash looks like to the director."""
        self.player.vanish()
        self._thread.join(timeout_s)

    def failure(self) -> PlayerFailed | None:
        return None if self.alive() else self._failure

    def log_text(self, lines: int = LOG_TAIL_LINES) -> str:
        return "\n".join(list(self.player._ring.lines)[-lines:])


class PlayerPool:
    """Players started for one director; reaped by :meth:`close` on every exit path.

    Parameters
    ----------
    endpoint
        The director's endpoint.
    failures
        Where abnormal ends are reported (share the director's to get one list).
    log_dir
        Where process players keep their config and log (a temporary directory by default).
    curve
        CURVE client keys for all players of this pool.
    launch_prefix
        A function of the player's name giving the command that runs its process on its
        host (``["ip", "netns", "exec", NS]`` in the network-namespace tests); none by default.
    """

    def __init__(self, endpoint: str, *, failures: FailureLog | None = None, log_dir: Path | None = None,
                 curve: CurveClient | None = None, launch_prefix: LaunchPrefix | None = None,
                 heartbeat_s: float | None = None, liveness: int | None = None) -> None:
        self.endpoint = endpoint
        self.heartbeat_s, self.liveness = heartbeat_s, liveness
        self.failures = failures if failures is not None else FailureLog()
        # a directory of our own making is removed on close (failures carry their log tails already)
        self._own_dir = log_dir is None
        self.log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="donki-players-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.curve = curve
        self.launch_prefix = launch_prefix
        self._players: dict[str, PlayerHandle] = {}
        self._reported: set[int] = set()

    def start(self, spec: PlayerConfig, mode: str = "process", action: Any = None) -> PlayerHandle:
        """Start one player; ``action`` (an object) is only possible for threads."""
        if mode not in MODES:
            raise ConfigError(f"player mode {mode!r} must be one of {MODES}")
        current = self._players.get(spec.name)
        if current is not None and current.alive():
            raise ConfigError(f"a player named {spec.name!r} is already running in this pool")
        if action is not None and mode != "thread":
            raise ConfigError(f"player {spec.name!r}: an action object can only run in a thread; "
                              "for a process give an action kind and params")
        config = spec.attached(self.endpoint, self.curve, heartbeat_s=self.heartbeat_s, liveness=self.liveness)
        if mode == "process":
            prefix = list(self.launch_prefix(spec.name)) if self.launch_prefix is not None else []
            handle: PlayerHandle = ProcessPlayer(config, self.log_dir, prefix)
        else:
            handle = ThreadPlayer(config, action)
        self._players[spec.name] = handle
        return handle

    def __getitem__(self, name: str) -> PlayerHandle:
        try:
            return self._players[name]
        except KeyError:
            raise PlayerError(f"no player named {name!r} was started here; started: {sorted(self._players)}") from None

    def handles(self) -> list[PlayerHandle]:
        return list(self._players.values())

    def stop(self, name: str, timeout_s: float = STOP_GRACE_S) -> None:
        self[name].stop(timeout_s)
        self.collect()

    def kill(self, name: str) -> None:
        """End a player the way a crash does: SIGKILL a process, or make a thread vanish (no bye)."""
        handle = self[name]
        if isinstance(handle, ProcessPlayer):
            handle.kill()
        elif isinstance(handle, ThreadPlayer):
            handle.vanish()
        else:
            raise PlayerError(f"cannot kill player {name!r}: a {type(handle).__name__} is neither process nor thread")

    def collect(self) -> list[PlayerFailed]:
        """Report players that ended abnormally since the last call (each once)."""
        found = []
        for handle in self._players.values():
            failure = handle.failure()
            if failure is not None and id(handle) not in self._reported:
                self._reported.add(id(handle))
                self.failures.add(failure)
                found.append(failure)
        return found

    def close(self, timeout_s: float = STOP_GRACE_S) -> None:
        """Stop every player still running (threads and processes), then collect failures."""
        errors = []
        for handle in self._players.values():
            try:
                handle.stop(timeout_s)
            except PlayerError as exc:
                errors.append(exc)
        self.collect()
        if self._own_dir and not any(h.alive() for h in self._players.values()):
            shutil.rmtree(self.log_dir, ignore_errors=True)
        if errors:
            raise errors[0]
