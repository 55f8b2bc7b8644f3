"""The Director: registers players and drives them with numbered triggers by priority level.

Example
-------
>>> with Director() as director:                                  # doctest: +SKIP
...     # start players that connect to director.endpoint, then:
...     director.wait_for_players(["det", "motion"], timeout_s=10)
...     result = director.run(count=100, rate_hz=14, ack_timeout_s=1.0, policy="skip")
...     director.raise_player_errors()
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from harness import validate
from harness.errors import ConfigError, PlayerError, PlayerFailed, RunError, RunFailed
from harness.orchestra.director_loop import DEFAULT_MAX_PLAYERS, DirectorLoop
from harness.orchestra.failures import FailureLog, raise_failures
from harness.orchestra.journal import EventKind, Journal
from harness.orchestra.liveness import DEFAULT_HEARTBEAT_S, DEFAULT_LIVENESS
from harness.orchestra.plan import RunPlan
from harness.orchestra.protocol import MAX_MESSAGE_BYTES, Message, MsgType
from harness.orchestra.registry import PlayerInfo, PlayerState, Registry
from harness.orchestra.schedule import RunState, ScheduleResult
from harness.orchestra.security import CurveServer, ZapHandler

__all__ = ["Director", "RunHandle", "DEFAULT_HEARTBEAT_S", "DEFAULT_LIVENESS", "DEFAULT_MAX_PLAYERS",
           "is_loopback"]

log = logging.getLogger("harness.orchestra.director")

DEFAULT_REQUEST_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 5.0
RUN_DEADLINE_SLACK_S = 10.0
MAX_HEARTBEAT_S = 60.0
MAX_LIVENESS = 1000


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the director reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # an interface name or a host name: assume it is reachable from outside

_T = TypeVar("_T")


class RunHandle:
    """A run in progress: wait for it, or pause, resume, stop or abort it."""

    def __init__(self, director: Director, future: concurrent.futures.Future[ScheduleResult], plan: RunPlan) -> None:
        self._director = director
        self._future = future
        self.plan = plan

    def done(self) -> bool:
        return self._future.done()

    def wait(self, timeout_s: float) -> ScheduleResult:
        """The run's result once it ended; :class:`RunError` if not within ``timeout_s``."""
        try:
            return self._future.result(timeout_s)
        except concurrent.futures.TimeoutError:
            raise RunError(f"the run did not end within {timeout_s:g} s (state: {self._director.run_state}); "
                           "give it more time, or stop() / abort() it") from None

    def pause(self) -> None:
        self._director.pause()

    def resume(self) -> None:
        self._director.resume()

    def stop(self) -> None:
        self._director.stop_run()

    def abort(self, reason: str = "aborted on request") -> None:
        self._director.abort(reason)


class Director:
    """Binds a ROUTER socket and runs its I/O loop in a background thread.

    Parameters
    ----------
    host, port
        Interface and port to bind; loopback and a free port by default. Bind another
        interface only together with ``curve``.
    heartbeat_s, liveness
        Heartbeat interval both ways; a player silent for ``heartbeat_s * liveness``
        (while it owes no ack) is journaled as lost.
    curve
        :class:`~harness.orchestra.security.CurveServer` to accept only known players.
    journal
        Journal to append to (a new one by default).
    max_players
        Seats: a hello beyond this many connected players is refused.
    insecure
        Allow a non-loopback ``host`` without ``curve`` (warned): anyone who reaches it can join.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, heartbeat_s: float = DEFAULT_HEARTBEAT_S,
                 liveness: int = DEFAULT_LIVENESS, curve: CurveServer | None = None,
                 journal: Journal | None = None, failures: FailureLog | None = None,
                 max_players: int = DEFAULT_MAX_PLAYERS, insecure: bool = False) -> None:
        validate.duration("director heartbeat_s", heartbeat_s, high=MAX_HEARTBEAT_S)
        validate.integer("director liveness", liveness, low=1, high=MAX_LIVENESS)
        validate.port("director port", port, free=True)
        self.max_players = validate.integer("director max_players", max_players, low=1, high=10_000)
        if curve is None and not is_loopback(host):
            if not insecure:
                raise ConfigError(f"director host {host!r} is not loopback: another machine could join as a "
                                  "player; give CURVE keys (curve=..., --curve-secret/--curve-allowed) or opt out "
                                  "explicitly with insecure=True (--insecure)")
            log.warning("director binds %s without CURVE (insecure): anyone who can reach it can join", host)
        self.host, self.port = host, port
        self.heartbeat_s, self.liveness = heartbeat_s, liveness
        self.curve = curve
        self.journal = journal if journal is not None else Journal()
        self.failures = failures if failures is not None else FailureLog()
        self.registry = Registry()
        self.endpoint = ""
        self._context: Any = None
        self._loop: DirectorLoop | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> Director:
        """Bind and start the I/O thread; ``endpoint`` is then ``tcp://HOST:PORT``."""
        import zmq

        if self._thread is not None:
            return self
        self._context = zmq.Context()
        zap, socket = None, self._context.socket(zmq.ROUTER)
        try:
            socket.linger = 0
            socket.router_mandatory = 1  # an unknown peer is an error we log, not a silent drop
            socket.sndhwm = socket.rcvhwm = 100_000
            socket.maxmsgsize = MAX_MESSAGE_BYTES  # libzmq drops a peer sending more, before Python sees it
            if self.curve is not None:
                zap = ZapHandler(self._context, self.curve.apply(socket))
            socket.bind(f"tcp://{self.host}:{self.port or '*'}")
        except BaseException as exc:
            socket.close(0)
            if zap is not None:
                zap.close()
            self._context.term()
            if isinstance(exc, zmq.ZMQError):
                raise ConfigError(f"the director cannot bind tcp://{self.host}:{self.port or '*'}: {exc}; "
                                  "choose a free port or another interface") from None
            raise
        self.endpoint = socket.last_endpoint.decode()
        self._loop = DirectorLoop(socket, self.registry, self.journal, self.failures, heartbeat_s=self.heartbeat_s,
                                  liveness=self.liveness, zap=zap, max_players=self.max_players)
        self._thread = threading.Thread(target=self._loop.serve, name="donki-director", daemon=True)
        self._thread.start()
        return self

    def close(self, reason: str = "director closing", timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Abort any run, say bye to every player, stop the thread, close the socket."""
        loop = self._loop
        if self._thread is None or loop is None:
            return
        try:
            loop.call(lambda: loop.begin_close(reason)).result(timeout_s)
        except (RunError, concurrent.futures.TimeoutError):
            pass  # the loop already stopped (or died, which it reported)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise RunError(f"the director thread did not stop within {timeout_s:g} s")
        self._thread = None
        self._context.term()

    def __enter__(self) -> Director:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _call(self, fn: Callable[[DirectorLoop], _T], timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S) -> _T:
        """``fn(loop)`` run in the loop thread, its result returned here."""
        loop = self._loop
        if loop is None:
            raise RunError("the director is not started; call start() or use it as a context manager")
        try:
            return loop.call(lambda: fn(loop)).result(timeout_s)
        except concurrent.futures.TimeoutError:
            raise RunError(f"the director's I/O loop did not answer within {timeout_s:g} s") from None

    @property
    def rejections(self) -> dict[str, int]:
        """Refusals so far by kind (``garbage``, ``hello``, ``hello_dropped``, ``curve``); all counted,
        the journal holds a sample."""
        return {} if self._loop is None else dict(self._loop.rejections.counts)

    # -- information server -------------------------------------------------------------

    def players(self, connected_only: bool = True) -> tuple[PlayerInfo, ...]:
        """Registered players (by default only those connected now)."""
        return tuple(p for p in self.registry.snapshot() if p.connected or not connected_only)

    def player(self, name: str) -> PlayerInfo:
        info = self.registry.get(name)
        if info is None:
            known = sorted(p.name for p in self.registry.snapshot())
            raise PlayerError(f"no player named {name!r} ever registered; known: {known}")
        return info

    def wait_for_players(self, names: Iterable[str] | int, timeout_s: float) -> tuple[PlayerInfo, ...]:
        """Wait until the named players (or that many players) are connected."""
        names = names if isinstance(names, int) else set(names)
        if not self.registry.wait_for(lambda players: self._registered(names, players), timeout_s):
            raise self.registration_error(names, timeout_s)
        return self.players()

    @staticmethod
    def _registered(names: set[str] | int, players: tuple[PlayerInfo, ...]) -> bool:
        if isinstance(names, int):
            return sum(p.connected for p in players) >= names
        return names <= {p.name for p in players if p.connected}

    def registration_error(self, names: Iterable[str] | int, timeout_s: float) -> PlayerError:
        """The error for players that did not register within ``timeout_s``, with what is known."""
        what = f"{names} player(s)" if isinstance(names, int) else f"players {sorted(names)}"
        connected = sorted(p.name for p in self.players())
        rejected = [e.detail for e in self.journal.of_kind(EventKind.PLAYER_REJECTED)]
        return PlayerError(f"{what} did not register with {self.endpoint} within {timeout_s:g} s; "
                           f"connected: {connected}; rejections: {rejected or 'none'}; check the players' "
                           "logs (they may have failed to start)")

    # -- commands to players ------------------------------------------------------------

    def _request(self, name: str, kind: MsgType, timeout_s: float,
                 **fields: Any) -> concurrent.futures.Future[Message]:
        return self._call(lambda loop: loop.request(name, kind, timeout_s, **fields))

    def _ask(self, name: str, kind: MsgType, timeout_s: float, **fields: Any) -> Message:
        future = self._request(name, kind, timeout_s, **fields)
        try:
            return future.result(timeout_s + 1.0)  # the loop enforces timeout_s; this is a backstop
        except concurrent.futures.TimeoutError:
            raise PlayerError(f"player {name!r} did not answer {kind.value} within {timeout_s:g} s") from None

    def _names(self, names: Iterable[str] | None) -> list[str]:
        return [p.name for p in self.players()] if names is None else list(names)

    def start_players(self, names: Iterable[str] | None = None,
                      timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S) -> None:
        """Ask players to set their action up (``start``); waits for each to confirm."""
        self._command_all(self._names(names), MsgType.START, timeout_s)

    def stop_players(self, names: Iterable[str] | None = None,
                     timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S) -> None:
        """Ask players to tear their action down (``stop``); waits for each to confirm."""
        self._command_all(self._names(names), MsgType.STOP, timeout_s)

    def _command_all(self, names: list[str], kind: MsgType, timeout_s: float) -> None:
        futures = {name: self._request(name, kind, timeout_s) for name in names}
        failures: list[PlayerFailed] = []
        for name, future in futures.items():
            try:
                future.result(timeout_s + 1.0)
            except (PlayerError, concurrent.futures.TimeoutError) as exc:
                info = self.registry.get(name)
                if info is not None and not info.connected:
                    continue  # it left or was lost meanwhile: journaled, and a loss is in the failure log
                failures.append(exc if isinstance(exc, PlayerFailed) else PlayerFailed(name, f"{kind.value}: {exc}"))
                continue
            self._mark(name, kind)
        raise_failures(failures)

    def _mark(self, name: str, kind: MsgType) -> None:
        if kind is MsgType.START:
            self._call(lambda loop: loop.mark_started(name))
        else:
            self._call(lambda loop: loop.mark_joined(name))

    def set_priority(self, name: str, priority: int, timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S) -> None:
        """Move ``name`` to another level (< 0 disables it); only while no run is running."""
        future = self._call(lambda loop: loop.set_priority(name, priority, timeout_s))
        future.result(timeout_s + 1.0)

    def info(self, name: str, timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S) -> dict[str, Any]:
        """The player's own view of itself: state, triggers done, action kind, pid, ..."""
        return dict(self._ask(name, MsgType.INFO, timeout_s).body["body"])

    def fetch_log(self, name: str, lines: int = 200, timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S) -> str:
        """The last ``lines`` lines of the player's log, fetched over the wire."""
        reply = self._ask(name, MsgType.LOG, timeout_s, lines=lines)
        return b"".join(reply.buffers).decode("utf-8", "replace")

    # -- runs ---------------------------------------------------------------------------

    def start_run(self, plan: RunPlan | None = None, *, start_players: bool = True, **plan_fields: Any) -> RunHandle:
        """Start a run (``plan`` or :class:`RunPlan` fields) and return at once."""
        plan = _plan(plan, plan_fields)
        if start_players:
            idle = [p.name for p in self.players() if p.state is PlayerState.JOINED and p.enabled]
            if idle:
                self.start_players(idle)
        future = self._call(lambda loop: loop.start_run(plan))
        return RunHandle(self, future, plan)

    def run(self, plan: RunPlan | None = None, *, timeout_s: float | None = None, check: bool = True,
            start_players: bool = True, **plan_fields: Any) -> ScheduleResult:
        """Run to the end and return the result.

        ``timeout_s`` defaults to a bound derived from the plan (count, rate, ack timeout,
        levels); an endless run needs an explicit one, or use :meth:`start_run`. With
        ``check`` an aborted run (policy ``fail``, lost player under ``fail``, timeout)
        raises :class:`~harness.errors.RunFailed`.
        """
        plan = _plan(plan, plan_fields)
        timeout_s = self._run_deadline(plan) if timeout_s is None else timeout_s
        handle = self.start_run(plan, start_players=start_players)
        try:
            result = handle.wait(timeout_s)
        except RunError:
            self.abort(f"did not end within {timeout_s:g} s")
            result = handle.wait(CLOSE_TIMEOUT_S)
        if check and result.state is RunState.ABORTED:
            raise RunFailed(f"run aborted after trigger {result.last_trigger}: {result.reason} "
                            f"(acked {result.acked}, nacked {result.nacked}, missed {result.missed})", result)
        return result

    def _run_deadline(self, plan: RunPlan) -> float:
        if plan.count is None:
            raise ConfigError("an endless run (count=None) needs timeout_s=..., or use start_run() and stop()")
        levels = max(1, len({p.priority for p in self.players() if p.enabled}))
        per_trigger = plan.period_s + levels * plan.ack_timeout_s * (plan.resends + 1)
        return plan.count * per_trigger + RUN_DEADLINE_SLACK_S

    def pause(self) -> None:
        """Pause after the trigger in progress (journaled when it takes effect)."""
        self._call(lambda loop: loop.control_run("pause"))

    def resume(self) -> None:
        self._call(lambda loop: loop.control_run("resume"))

    def stop_run(self) -> None:
        """End the run after the trigger in progress."""
        self._call(lambda loop: loop.control_run("stop"))

    def abort(self, reason: str = "aborted on request") -> None:
        """End the run now; what players still owe is journaled as missed."""
        self._call(lambda loop: loop.control_run("abort", reason))

    @property
    def run_state(self) -> str | None:
        """``running``, ``paused``, or ``None`` when no run is in progress."""
        return None if self._loop is None else self._call(DirectorLoop.run_state)

    # -- errors -------------------------------------------------------------------------

    def player_errors(self) -> list[PlayerFailed]:
        """Failures collected so far (nacks, lost players, refused commands); kept."""
        return self.failures.peek()

    def take_player_errors(self) -> list[PlayerFailed]:
        """Failures collected so far, removed (for tests that provoke them on purpose)."""
        return self.failures.take()

    def raise_player_errors(self) -> None:
        """Raise what players reported (:class:`PlayerFailed` / :class:`PlayersFailed`), once."""
        raise_failures(self.failures.take())


def _plan(plan: RunPlan | None, fields: dict[str, Any]) -> RunPlan:
    if plan is not None and fields:
        raise ConfigError(f"pass either a RunPlan or its fields, not both (got {sorted(fields)})")
    return plan if plan is not None else RunPlan(**fields)

