"""The director's I/O thread: the one thread that touches the ROUTER socket.

Other threads talk to it through :meth:`DirectorLoop.call`, which queues a function to run
in the loop and wakes the loop with an empty message from an in-process DEALER connected to
the same ROUTER (its routing id is random and never a player's); the function's result comes
back in a :class:`~concurrent.futures.Future`. The loop thus waits on one socket, in a
blocking receive with a timeout (a third of the CPU of poll-then-receive per message), until
the next message, the next command or the earliest deadline (ack, heartbeat, request, next
trigger). ZAP requests (CURVE) are answered in a thread of their own (:class:`ZapService`).
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import queue
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.errors import PlayerError, PlayerFailed, ProtocolError, RunError
from harness.orchestra.failures import FailureLog
from harness.orchestra.journal import EventKind, Journal
from harness.orchestra.plan import RunPlan
from harness.orchestra.protocol import (
    PLAYER,
    PROTOCOL_VERSION,
    Message,
    MsgType,
    UnsupportedVersion,
    decode,
    encode,
    parse_ack,
    trigger_frames,
)
from harness.orchestra.registry import PlayerState, Registry
from harness.orchestra.rejections import HelloGate, Rejections
from harness.orchestra.schedule import ScheduleResult, SendTrigger, TriggerScheduler
from harness.orchestra.security import ZapHandler, ZapService

__all__ = ["DirectorLoop"]

log = logging.getLogger("harness.orchestra.director")

MAX_POLL_MS = 100  # upper bound of one wait, so close() and signals are seen promptly
DEFAULT_MAX_PLAYERS = 64  # seats per director: hellos beyond are refused (a scenario has far fewer players)
CLOSE_LINGER_MS = 200  # lets the goodbyes leave before the socket closes
RUNS_REMEMBERED = 8  # late answers to older runs are journaled as wrong acks without detail

_T = TypeVar("_T")


@dataclass
class _Request:
    name: str
    kind: MsgType
    future: Future[Message]
    deadline: float


class DirectorLoop:
    """Owns the bound ROUTER ``socket`` once :meth:`serve` runs in its thread."""

    def __init__(self, socket: Any, registry: Registry, journal: Journal, failures: FailureLog, *,
                 heartbeat_s: float, liveness: int, zap: ZapHandler | None = None,
                 max_players: int = DEFAULT_MAX_PLAYERS) -> None:
        import zmq

        self._sock = socket
        # the wake-up line: bound and connected here, before the loop thread owns the ROUTER
        self._wake_id = b"donki-wake/" + os.urandom(16).hex().encode()
        wake_endpoint = f"inproc://donki-wake-{os.urandom(8).hex()}"
        socket.bind(wake_endpoint)
        self._waker = socket.context.socket(zmq.DEALER)
        self._waker.linger = 0
        self._waker.routing_id = self._wake_id
        self._waker.connect(wake_endpoint)
        # plain ints: pyzmq flag enums cost an enum construction per send
        self._noblock, self._more_noblock = int(zmq.NOBLOCK), int(zmq.SNDMORE | zmq.NOBLOCK)
        self._zmq_error = zmq.ZMQError
        self._registry = registry
        self._journal = journal
        self._failures = failures
        self._heartbeat_s = heartbeat_s
        self._liveness = liveness
        self._zap = None if zap is None else ZapService(zap, self._on_curve_refused)
        self._commands: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._wake_lock = threading.Lock()  # the waker is used by any thread, one at a time
        self._run: TriggerScheduler | None = None
        self._run_future: Future[ScheduleResult] | None = None
        self._runs: collections.OrderedDict[int, TriggerScheduler] = collections.OrderedDict()  # recent runs
        self._requests: dict[int, _Request] = {}
        self._req_ids = itertools.count(1)
        self._run_ids = itertools.count(1)
        self._closing = False
        self._stopped = False
        self.crash: str | None = None  # traceback of the loop, had it died of a bug
        self._max_players = max_players
        self.rejections = Rejections(journal)
        self._hello_gate = HelloGate()
        self._next_housekeeping = 0.0
        self._next_heartbeat = 0.0
        self._handlers = {
            MsgType.ACK: self._on_ack, MsgType.NACK: self._on_nack, MsgType.REPLY: self._on_reply,
            MsgType.HEARTBEAT: self._on_heartbeat, MsgType.BYE: self._on_bye,
        }

    # -- any thread ---------------------------------------------------------------------

    def call(self, fn: Callable[[], _T]) -> Future[_T]:
        """Run ``fn`` in the loop thread; its result or exception arrives in the future."""
        future: Future[_T] = Future()
        with self._wake_lock:  # the waker is closed under this lock: never send on a closed socket
            if self._stopped:
                future.set_exception(self._closed_error())
                return future
            self._commands.put((fn, future))
            try:
                self._waker.send(b"", self._noblock)
            except self._zmq_error:
                pass  # its queue is full, so the loop is already due to wake up
        return future

    # -- loop thread --------------------------------------------------------------------

    def serve(self) -> None:
        """The thread body; returns after close, having closed the socket."""
        if self._zap is not None:
            self._zap.start()
        try:
            self._serve()
        except BaseException as exc:  # noqa: BLE001 - a bug here must reach the waiting test, not vanish
            text = self.crash = traceback.format_exc()
            log.error("director loop died:\n%s", text)
            self._fail_everything(RunError(f"the director's I/O loop died: {exc!r}\n{text}"))
        finally:
            with self._wake_lock:
                self._stopped = True
                self._waker.close(0)
            self._drain_commands_after_stop()
            if self._zap is not None:
                self._zap.close()
            self._sock.close(CLOSE_LINGER_MS)

    def _serve(self) -> None:
        import zmq

        sock, wake_id = self._sock, self._wake_id
        recv, handle, tick, again, clock = sock.recv_multipart, self._handle, self._tick, zmq.Again, time.monotonic
        timeout_ms, timeout_set = 0, None
        while not self._closing:
            if timeout_ms != timeout_set:  # a socket option costs a call: set it only when it changes
                sock.rcvtimeo = timeout_set = timeout_ms
            try:
                frames = recv()
            except again:
                pass  # the deadline came first
            else:
                if frames[0] == wake_id:
                    self._run_commands()
                else:
                    handle(frames)
            timeout_ms = tick(clock())

    def _tick(self, now: float) -> int:
        """Apply what is due now; returns how long the next poll may wait (ms)."""
        wake = None
        run = self._run
        if run is not None:
            wake = run.next_wakeup()
            if wake is not None and wake <= now:
                self._send_triggers(run, run.on_time(now))
                wake = run.next_wakeup()
            if run.state.finished:
                self._complete_run()
                wake = None
        if now >= self._next_housekeeping:
            self._housekeeping(now)
        if wake is None or wake > self._next_housekeeping:
            wake = self._next_housekeeping
        return max(0, min(MAX_POLL_MS, int((wake - now) * 1000.0 + 0.999)))

    def _run_commands(self) -> None:
        while True:
            try:
                fn, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except Exception as exc:  # noqa: BLE001 - handed to the caller's thread
                    future.set_exception(exc)

    # -- messages -----------------------------------------------------------------------

    def _handle(self, frames: list[bytes]) -> None:
        identity = frames[0]
        name = self._registry.name_of(identity)
        if len(frames) == 2 and name is not None:  # the hot path: a canonical ack from a registered player
            ack = parse_ack(frames[1])
            run = None if ack is None else self._runs.get(ack[0])
            if ack is not None and run is not None and name is not None:
                now = time.monotonic()
                self._registry.touch(identity, now)
                self._send_triggers(run, run.on_ack(name, ack[1], ack[2], ack[3], now))
                return
        try:
            msg = decode(frames[1:], PLAYER)
        except UnsupportedVersion as exc:
            self._reject(identity, exc.name, str(exc))
            return
        except ProtocolError as exc:
            self._garbage_event(identity, str(exc))
            return
        now = time.monotonic()
        if msg.type is MsgType.HELLO:
            self._on_hello(identity, name, msg, now)
        elif name is None:
            self._from_stranger(identity, msg, now)
        else:
            self._registry.touch(identity, now)
            self._handlers[msg.type](name, msg, now)

    def _garbage_event(self, identity: bytes, reason: str) -> None:
        who = self._registry.name_of(identity) or self._registry.former_name(identity)
        self.rejections.add(EventKind.GARBAGE, who, reason)  # counted always, journaled by sample

    def _send(self, identity: bytes, frames: list[bytes]) -> bool:
        import zmq

        try:
            self._sock.send_multipart([identity, *frames], zmq.NOBLOCK)
            return True
        except zmq.ZMQError as exc:  # peer gone or its queue full: deadlines and heartbeats decide
            log.info("could not send to %s: %s", identity.hex(), exc)
            return False

    def _reject(self, identity: bytes, name: str | None, reason: str) -> None:
        self.rejections.add(EventKind.PLAYER_REJECTED, name, reason, key="hello")
        self._send(identity, encode(MsgType.REJECT, reason=reason))

    def _on_hello(self, identity: bytes, name: str | None, msg: Message, now: float) -> None:
        if name is not None:  # hello repeated because our welcome crossed it: answer again
            if name == msg.body["name"]:
                self._welcome(identity)
            else:
                self._garbage_event(identity, f"hello as {msg.body['name']!r} from the connection of {name!r}")
            return
        if not self._hello_gate.admit(now):  # a flood of strangers: drop, unanswered; a real player re-sends
            self.rejections.count("hello_dropped")
            return
        reason = self._registry.refusal(msg.body)
        if reason is None and self._registry.connected_count() >= self._max_players:
            reason = (f"this director seats at most {self._max_players} players and has them; "
                      "start it with a larger max_players if that many are meant to join")
        if reason is not None:
            self._reject(identity, msg.body["name"], reason)
            return
        info = self._registry.join(identity, msg.body, now)
        self._journal.record(EventKind.PLAYER_JOINED, player=info.name, detail=info.join_detail())
        log.info("player %r joined: priority %d, divisor %d, streams %s", info.name, info.priority,
                 info.divisor, list(info.streams))
        self._welcome(identity)

    def _welcome(self, identity: bytes) -> None:
        self._send(identity, encode(MsgType.WELCOME, protocol=PROTOCOL_VERSION, heartbeat_s=self._heartbeat_s,
                                    liveness=self._liveness))

    def _from_stranger(self, identity: bytes, msg: Message, now: float) -> None:
        former = self._registry.former_name(identity)
        if former is not None and msg.type in (MsgType.ACK, MsgType.NACK):
            self._handlers[msg.type](former, msg, now)  # journaled as late: it was given up
        elif msg.type is not MsgType.BYE:
            self._garbage_event(identity, f"{msg.type.value} from a peer that is not registered")
        if msg.type is not MsgType.BYE:
            self._send(identity, encode(MsgType.BYE, reason="you are not registered with this director "
                                        "(lost or never said hello); restart the player"))

    def _run_of(self, name: str, body: Any, kind: str) -> TriggerScheduler | None:
        run = self._runs.get(body["run"])
        if run is None:
            self._journal.record(EventKind.WRONG_ACK, trigger=body["trigger"], player=name, attempt=body["attempt"],
                                 detail=f"{kind} for run {body['run']}, which this director does not know (any more)")
        return run

    def _on_ack(self, name: str, msg: Message, now: float) -> None:
        body = msg.body
        run = self._run_of(name, body, "ack")
        if run is not None:
            self._send_triggers(run, run.on_ack(name, body["trigger"], body["attempt"], body["counts"], now))

    def _on_nack(self, name: str, msg: Message, now: float) -> None:
        body = msg.body
        self._failures.add(PlayerFailed(name, f"failed trigger {body['trigger']}", body["error"],
                                        trigger=body["trigger"]))
        run = self._run_of(name, body, "nack")
        if run is not None:
            self._send_triggers(run, run.on_nack(name, body["trigger"], body["attempt"], body["counts"],
                                                 body["error"], now))

    def _on_reply(self, name: str, msg: Message, now: float) -> None:
        request = self._requests.get(msg.body["req"])
        if request is None or request.name != name:
            self._garbage_event(self._registry.identity_of(name) or b"", f"reply to unknown request {msg.body['req']}")
            return
        del self._requests[msg.body["req"]]
        if msg.body["ok"]:
            request.future.set_result(msg)
        else:
            request.future.set_exception(PlayerFailed(name, f"refused {request.kind.value}", msg.body["error"]))

    def _on_heartbeat(self, name: str, msg: Message, now: float) -> None:
        pass  # being heard from is all a heartbeat says; the registry was touched

    def _on_bye(self, name: str, msg: Message, now: float) -> None:
        self._player_gone(name, PlayerState.LEFT, msg.body["reason"], now)

    def _on_curve_refused(self, key: str, address: str) -> None:
        """From the ZAP thread: journaled (rate-limited) in the loop thread."""
        self.call(lambda: self.rejections.add(
            EventKind.PLAYER_REJECTED, None, f"CURVE key {key or '?'} from {address or '?'} is not in the allowed "
            "keys directory", key="curve"))

    # -- players and runs ---------------------------------------------------------------

    def _send_triggers(self, run: TriggerScheduler, sends: list[SendTrigger]) -> None:
        if not sends:
            return
        run_id, identity_of, send_frame = run.run_id, self._registry.identity_of, self._sock.send
        more, noblock = self._more_noblock, self._noblock
        for player, trigger, attempt in sends:
            identity = identity_of(player)
            if identity is None:
                continue
            try:
                send_frame(identity, more)
                send_frame(trigger_frames(run_id, trigger, attempt)[0], noblock)
            except self._zmq_error as exc:  # deadlines and heartbeats decide what this means
                log.info("could not send trigger %d to %r: %s", trigger, player, exc)

    def _player_gone(self, name: str, state: PlayerState, reason: str, now: float) -> None:
        info = self._registry.get(name)
        if info is None or not info.connected:
            return
        self._registry.update(name, state=state)
        kind = EventKind.PLAYER_LEFT if state is PlayerState.LEFT else EventKind.PLAYER_LOST
        self._journal.record(kind, player=name, detail=reason)
        if state is PlayerState.LOST:
            self._failures.add(PlayerFailed(name, f"was lost: {reason}"))
        for req_id, request in list(self._requests.items()):
            if request.name == name:
                del self._requests[req_id]
                request.future.set_exception(PlayerError(f"player {name!r} went away before answering "
                                                         f"{request.kind.value}: {reason}"))
        if self._run is not None:
            self._send_triggers(self._run, self._run.on_player_gone(name, reason, now))

    def _housekeeping(self, now: float) -> None:
        self._next_housekeeping = now + self._heartbeat_s / 2
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + self._heartbeat_s
            beat = encode(MsgType.HEARTBEAT)
            for identity in self._registry.identities():
                self._send(identity, beat)
        limit = self._heartbeat_s * self._liveness
        # a player answering start/stop runs its action's setup/teardown and cannot beat
        # meanwhile; the request's own deadline judges it, as the ack deadline does for triggers
        answering = {request.name for request in self._requests.values() if request.deadline > now}
        for name, silence in self._registry.silent_since(now, limit):
            allowance = 0.0 if self._run is None else self._run.busy_allowance(name)
            if silence > allowance and name not in answering:
                self._player_gone(name, PlayerState.LOST, f"no message for {silence:.2f} s (heartbeat "
                                  f"{self._heartbeat_s:g} s x liveness {self._liveness}"
                                  + (f", busy allowance {allowance:g} s)" if allowance else ")"), now)
        for req_id, request in list(self._requests.items()):
            if request.deadline <= now:
                del self._requests[req_id]
                request.future.set_exception(PlayerError(f"player {request.name!r} did not answer "
                                                         f"{request.kind.value} in time"))

    def _complete_run(self) -> None:
        run, future = self._run, self._run_future
        self._run, self._run_future = None, None
        if run is not None and future is not None and not future.done():
            future.set_result(run.result())

    # -- commands (run in the loop thread via call) -------------------------------------

    def start_run(self, plan: RunPlan) -> Future[ScheduleResult]:
        if self._run is not None:
            raise RunError(f"a run is already in progress (trigger {self._run.trigger_in_progress}); "
                           "stop or abort it first")
        if not self._registry.seats():
            raise RunError("no enabled player is connected: start players (priority >= 0) and wait for them "
                           "to register before starting a run")
        now = time.monotonic()
        run_id = next(self._run_ids)
        run = self._run = TriggerScheduler(plan, self._journal, self._registry.seats, now, run_id)
        self._runs[run_id] = run
        while len(self._runs) > RUNS_REMEMBERED:
            self._runs.popitem(last=False)
        future: Future[ScheduleResult] = Future()
        self._run_future = future
        self._send_triggers(run, run.begin(now))
        return future

    def control_run(self, action: str, reason: str = "") -> ScheduleResult | None:
        run, now = self._run, time.monotonic()
        if run is None:
            return None
        if action == "pause":
            run.pause(now)
        elif action == "resume":
            self._send_triggers(run, run.resume(now))
        elif action == "stop":
            run.stop(now)
        else:
            run.abort(reason or "aborted on request", now)
        if run.state.finished:
            self._complete_run()
        return run.result()

    def run_state(self) -> str | None:
        return None if self._run is None else self._run.state.value

    def request(self, name: str, kind: MsgType, timeout_s: float, **fields: Any) -> Future[Message]:
        """Send a request to ``name``; the future gets its reply :class:`Message`."""
        identity = self._registry.identity_of(name)
        if identity is None:
            raise PlayerError(f"no connected player named {name!r}; connected: {self.connected_names()}")
        req = next(self._req_ids)
        future: Future[Message] = Future()
        self._requests[req] = _Request(name, kind, future, time.monotonic() + timeout_s)
        self._send(identity, encode(kind, req=req, **fields))
        return future

    def connected_names(self) -> list[str]:
        return sorted(p.name for p in self._registry.snapshot() if p.connected)

    def set_priority(self, name: str, priority: int, timeout_s: float) -> Future[Message]:
        if self._run is not None and self._run.state.value == "running":
            raise RunError(f"cannot change the priority of {name!r} while a run is in progress; "
                           "pause the run or wait for it to end")
        info = self._registry.get(name)
        if info is None or not info.connected:
            raise PlayerError(f"no connected player named {name!r}; connected: {self.connected_names()}")
        future = self.request(name, MsgType.SET_PRIORITY, timeout_s, priority=priority)
        self._registry.update(name, priority=priority)
        self._journal.record(EventKind.PRIORITY_CHANGED, player=name,
                             detail=f'{{"from": {info.priority}, "to": {priority}}}')
        return future

    def mark_started(self, name: str) -> None:
        info = self._registry.get(name)
        if info is not None and info.state is PlayerState.JOINED:
            self._registry.update(name, state=PlayerState.STARTED)

    def mark_joined(self, name: str) -> None:
        info = self._registry.get(name)
        if info is not None and info.state is PlayerState.STARTED:
            self._registry.update(name, state=PlayerState.JOINED)

    def begin_close(self, reason: str) -> None:
        if self._run is not None:
            self._run.abort(reason, time.monotonic())
            self._complete_run()
        bye = encode(MsgType.BYE, reason=reason)
        for identity in self._registry.identities():
            self._send(identity, bye)
        self._closing = True

    # -- failure paths ------------------------------------------------------------------

    def _fail_everything(self, error: Exception) -> None:
        futures: list[Future[Any] | None] = [self._run_future, *(r.future for r in self._requests.values())]
        for future in futures:
            if future is not None and not future.done():
                future.set_exception(error)
        self._requests.clear()

    def _drain_commands_after_stop(self) -> None:
        while True:
            try:
                _, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if not future.done():
                future.set_exception(self._closed_error())

    def _closed_error(self) -> RunError:
        if self.crash is not None:
            return RunError(f"the director's I/O loop died of a bug:\n{self.crash}")
        return RunError("the director is closed")
