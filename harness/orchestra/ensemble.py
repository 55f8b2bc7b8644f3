"""A Director together with the players it started: the one object tests and ``donki run`` use.

Example
-------
>>> from harness.orchestra import Ensemble, PlayerConfig        # doctest: +SKIP
>>> with Ensemble() as ens:
...     ens.add_players([PlayerConfig("det", "sleep", {"seconds": 0.001}, priority=0),
...                      PlayerConfig("motion", priority=1, divisor=14)])
...     result = ens.run(count=140, rate_hz=14, ack_timeout_s=1.0, policy="skip")
...     ens.raise_player_errors()
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.errors import PlayerError, PlayerFailed
from harness.orchestra.director import DEFAULT_MAX_PLAYERS, Director, RunHandle
from harness.orchestra.failures import FailureLog, raise_failures
from harness.orchestra.journal import Journal
from harness.orchestra.launcher import LaunchPrefix, PlayerHandle, PlayerPool
from harness.orchestra.liveness import DEFAULT_HEARTBEAT_S, DEFAULT_LIVENESS
from harness.orchestra.plan import RunPlan
from harness.orchestra.player_config import PlayerConfig
from harness.orchestra.registry import PlayerInfo
from harness.orchestra.schedule import ScheduleResult
from harness.orchestra.security import CurveClient, CurveServer

__all__ = ["Ensemble", "DEFAULT_REGISTER_TIMEOUT_S"]

DEFAULT_REGISTER_TIMEOUT_S = 30.0  # a cold Python start on a loaded 2-core machine is slow
WAIT_SLICE_S = 0.1  # how often a registration wait looks for players that died instead


class Ensemble:
    """Director plus player pool sharing one failure log.

    Parameters
    ----------
    host, port, heartbeat_s, liveness, journal
        As for :class:`~harness.orchestra.director.Director`.
    curve_server, curve_client
        CURVE keys of the director and of the players it starts (both or neither).
    log_dir
        Where process players keep config and log.
    launch_prefix
        Per player name, the command that runs its process on its host (see
        :class:`~harness.orchestra.launcher.PlayerPool`).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, heartbeat_s: float = DEFAULT_HEARTBEAT_S,
                 liveness: int = DEFAULT_LIVENESS, journal: Journal | None = None,
                 curve_server: CurveServer | None = None, curve_client: CurveClient | None = None,
                 log_dir: Path | None = None, max_players: int = DEFAULT_MAX_PLAYERS, insecure: bool = False,
                 launch_prefix: LaunchPrefix | None = None) -> None:
        self.failures = FailureLog()
        self.director = Director(host, port, heartbeat_s=heartbeat_s, liveness=liveness, curve=curve_server,
                                 journal=journal, failures=self.failures, max_players=max_players,
                                 insecure=insecure)
        self._curve_client = curve_client
        self._log_dir = log_dir
        self._launch_prefix = launch_prefix
        self.pool: PlayerPool | None = None

    def start(self) -> Ensemble:
        self.director.start()
        if self.pool is None:
            self.pool = PlayerPool(self.director.endpoint, failures=self.failures, log_dir=self._log_dir,
                                   curve=self._curve_client, launch_prefix=self._launch_prefix,
                                   heartbeat_s=self.director.heartbeat_s, liveness=self.director.liveness)
        return self

    def _pool(self) -> PlayerPool:
        if self.pool is None:
            raise PlayerError("the ensemble is not started; call start() or use it as a context manager")
        return self.pool

    def close(self) -> None:
        """Stop players, then the director; failures stay available afterwards."""
        try:
            if self.pool is not None:
                self.pool.close()
        finally:
            self.director.close()

    def __enter__(self) -> Ensemble:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def endpoint(self) -> str:
        return self.director.endpoint

    @property
    def journal(self) -> Journal:
        return self.director.journal

    # -- players ------------------------------------------------------------------------

    def add_player(self, spec: PlayerConfig, mode: str = "process", action: Any = None, *, wait: bool = True,
                   timeout_s: float = DEFAULT_REGISTER_TIMEOUT_S) -> PlayerHandle:
        """Start one player (``process`` or ``thread``) and by default wait until it registered."""
        handle = self._pool().start(spec, mode, action)
        if wait:
            self.wait_for_players([spec.name], timeout_s)
        return handle

    def add_players(self, specs: Iterable[PlayerConfig], mode: str = "process", *, wait: bool = True,
                    timeout_s: float = DEFAULT_REGISTER_TIMEOUT_S) -> list[PlayerHandle]:
        """Start several players at once (they boot in parallel), then wait for all."""
        specs = list(specs)
        handles = [self._pool().start(spec, mode) for spec in specs]
        if wait:
            self.wait_for_players([s.name for s in specs], timeout_s)
        return handles

    def wait_for_players(self, names: Iterable[str] | int,
                         timeout_s: float = DEFAULT_REGISTER_TIMEOUT_S) -> tuple[PlayerInfo, ...]:
        """Wait until they registered; a player that ends meanwhile is reported at once, with its log."""
        names = names if isinstance(names, int) else list(names)
        deadline = time.monotonic() + timeout_s
        while True:
            slice_s = min(WAIT_SLICE_S, max(0.0, deadline - time.monotonic()))
            try:
                return self.director.wait_for_players(names, slice_s)
            except PlayerError:
                if self._pool().collect():
                    self.raise_player_errors()
                if time.monotonic() >= deadline:
                    raise self.director.registration_error(names, timeout_s) from None

    def stop_player(self, name: str, timeout_s: float = 5.0) -> None:
        """Stop a player gracefully (teardown, bye)."""
        self._pool().stop(name, timeout_s)

    def kill_player(self, name: str) -> None:
        """Crash a player: SIGKILL a process, or end a thread without teardown or bye."""
        self._pool().kill(name)

    # -- runs (see Director for the full API) --------------------------------------------

    def run(self, plan: RunPlan | None = None, **kwargs: Any) -> ScheduleResult:
        return self.director.run(plan, **kwargs)

    def start_run(self, plan: RunPlan | None = None, **kwargs: Any) -> RunHandle:
        return self.director.start_run(plan, **kwargs)

    # -- errors -------------------------------------------------------------------------

    def player_errors(self) -> list[PlayerFailed]:
        """Everything players reported so far (nacks, losses, crashes, thread exceptions); kept."""
        if self.pool is not None:
            self._pool().collect()
        return self.failures.peek()

    def take_player_errors(self) -> list[PlayerFailed]:
        if self.pool is not None:
            self._pool().collect()
        return self.failures.take()

    def raise_player_errors(self) -> None:
        """Raise what players reported (one :class:`PlayerFailed` or :class:`PlayersFailed`)."""
        raise_failures(self.take_player_errors())
