"""The Player: joins a director, runs its action per trigger, acks, heartbeats.

The action runs in the player's I/O thread, between messages, as in ZeroMQ's Paranoid
Pirate worker: the fastest path from trigger to ack. While it runs the player sends no
heartbeats; the director does not count that silence against a player that owes an ack
whose deadline has not passed, so only a hang is reported (as a timeout, then a loss).
"""

from __future__ import annotations

import collections
import logging
import os
import socket as pysocket
import threading
import time
import traceback
from typing import Any

from harness.errors import ConfigError, PlayerFailed, ProtocolError
from harness.orchestra import protocol
from harness.orchestra.ack import AckAfter
from harness.orchestra.action import ActionResult, DeliveryAction, PlayerAction
from harness.orchestra.action_kinds import make_action
from harness.orchestra.liveness import zmtp_timeout_ms
from harness.orchestra.player_config import PlayerConfig
from harness.orchestra.protocol import DIRECTOR, MAX_MESSAGE_BYTES, Message, MsgType, ack_frames, decode, encode
from harness.orchestra.watchdog import DirectorWatch, configure_heartbeats

__all__ = ["Player", "PlayerExit", "LOG_LINES_KEPT", "EXIT_OK", "EXIT_ERROR", "EXIT_DIRECTOR_LOST"]

LOG_LINES_KEPT = 2000

# exit codes of a player process (``python -m harness.orchestra.player_process``, ``donki player``)
EXIT_OK = 0
EXIT_ERROR = 2  # bad config, rejected by the director, no welcome
EXIT_DIRECTOR_LOST = 3
MAX_POLL_MS = 100  # bounds how long a stop request waits
HELLO_RESEND_S = 1.0  # a hello may be dropped by a director under a flood of strangers: say it again
STUCK_EXIT_GRACE_S = 2.0  # a process player whose action ignores the stop event is ended this long after


class PlayerExit:
    """Why :meth:`Player.run` returned."""

    BYE = "bye"  # the director said bye (it closed, or asked us to leave)
    STOPPED = "stopped"  # stop_event was set (SIGTERM, or the launcher stopping a thread)
    DIRECTOR_LOST = "director_lost"  # heartbeats from the director stopped


class _RingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: collections.deque[str] = collections.deque(maxlen=LOG_LINES_KEPT)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class Player:
    """One player.

    Parameters
    ----------
    config
        Where to connect, who it is, what to run.
    action
        The action object; built from ``config.kind`` and ``config.params`` when ``None``.
    stop_event
        Set it to make :meth:`run` return (after teardown and a bye).
    mode
        ``"process"`` or ``"thread"``: passed to the action's context.
    """

    def __init__(self, config: PlayerConfig, action: PlayerAction | None = None, *,
                 stop_event: threading.Event | None = None, mode: str = "process") -> None:
        self.config = config
        self.stop_event = stop_event if stop_event is not None else threading.Event()
        self.mode = mode
        self.log = logging.getLogger(f"harness.orchestra.player.{config.name}")
        self.log.setLevel(logging.INFO)  # the ring buffer (fetch_log) keeps INFO whatever the root level
        self._ring = _RingHandler()
        self._action = action
        self.priority = config.priority
        self._ack_delivered = config.ack_mode is AckAfter.DELIVERY
        self._delivery: DeliveryAction | None = None  # the action, in ack mode 'delivery'
        self.started = False
        self.triggers_done = 0
        self._last: tuple[int, int, MsgType, dict[str, int], str] | None = None  # last answered (run, trigger)
        self._sock: Any = None
        self._vanish = False
        self._busy_since: float | None = None  # set while the action runs: the watchdog's cue
        self._director_gone = False
        self._heartbeat_s = 1.0
        self._liveness = 3
        self._zmtp_timeout_ms = 0  # of the connection, set when it is made
        self._handlers = {
            MsgType.TRIGGER: self._on_trigger_message, MsgType.HEARTBEAT: _ignore, MsgType.WELCOME: _ignore,
            MsgType.INFO: self._on_info, MsgType.START: self._on_start, MsgType.STOP: self._on_stop,
            MsgType.SET_PRIORITY: self._on_set_priority, MsgType.LOG: self._on_log,
        }

    # -- setup --------------------------------------------------------------------------

    def _build_action(self) -> PlayerAction:
        cfg = self.config
        action = self._action
        if action is None:
            context = {"name": cfg.name, "bootstrap": cfg.bootstrap, "topic": cfg.topic, "seed": cfg.seed,
                       "mode": self.mode, "stop_event": self.stop_event, "priority": cfg.priority,
                       "divisor": cfg.divisor, "streams": list(cfg.streams), "logger": self.log}
            action = make_action(cfg.kind, cfg.params, context)
        if cfg.ack_mode is AckAfter.DELIVERY and not callable(getattr(action, "wait_delivered", None)):
            raise ConfigError(f"player {cfg.name!r}: ack mode 'delivery' needs an action with "
                              f"wait_delivered(trigger, timeout_s); kind {cfg.kind!r} has none: use ack mode 'send'")
        return action

    def run(self) -> str:
        """Join, serve triggers until bye, stop or a vanished director; returns a :class:`PlayerExit`.

        Raises
        ------
        PlayerFailed
            The director rejected the player or never answered its hello.
        ConfigError
            The action could not be built from the config.
        """
        import zmq

        self.log.addHandler(self._ring)
        action = self._action = self._build_action()
        # _build_action made sure that an action in ack mode 'delivery' has wait_delivered
        self._delivery = action if self._ack_delivered and isinstance(action, DeliveryAction) else None
        context = zmq.Context()
        self._sock = context.socket(zmq.DEALER)
        reason = "player stopping"
        try:
            self._connect(zmq)
            if not self._join():
                reason = "stopped before the director welcomed it"
                self.log.info("leaving: %s", reason)
                return PlayerExit.STOPPED
            watch = DirectorWatch(self._sock, self._heartbeat_s * self._liveness,
                                  lambda: self._busy_since is not None, self._on_director_gone).start()
            try:
                outcome = self._serve(zmq)
            finally:
                watch.close()
            reason = {PlayerExit.STOPPED: "player stopped", PlayerExit.BYE: "director said bye",
                      PlayerExit.DIRECTOR_LOST: "director lost"}[outcome]
            self.log.info("leaving: %s", reason)
            return outcome
        finally:
            if self._vanish:
                self._sock.close(0)
            else:
                self._teardown()
                try:
                    self._sock.send_multipart(encode(MsgType.BYE, reason=reason), zmq.NOBLOCK)
                except zmq.ZMQError:
                    pass
                self._sock.close(200)  # let the bye leave
            context.term()
            self.log.removeHandler(self._ring)

    def _on_director_gone(self, reason: str) -> None:
        """From the watchdog thread: the director is gone while the action is stuck."""
        self.log.error("%s (%s): stopping", reason, self.config.director)
        self._director_gone = True
        self.stop_event.set()
        if self.mode != "process":
            return  # a thread player cannot be killed; its action gets the stop event
        deadline = time.monotonic() + STUCK_EXIT_GRACE_S
        while self._busy_since is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._busy_since is not None:  # the action ignores the stop event: no orphan process either way
            self.log.error("the action did not return within %g s of the stop; exiting", STUCK_EXIT_GRACE_S)
            logging.shutdown()
            os._exit(EXIT_DIRECTOR_LOST)

    def vanish(self) -> None:
        """Stop at once with no teardown and no bye: to the director, a crash (for thread players)."""
        self._vanish = True
        self.stop_event.set()

    def _connect(self, zmq: Any) -> None:
        cfg = self.config
        sock = self._sock
        sock.linger = 0
        sock.sndhwm = sock.rcvhwm = 100_000
        sock.maxmsgsize = MAX_MESSAGE_BYTES
        self._zmtp_timeout_ms = configure_heartbeats(sock, cfg.heartbeat_s, cfg.liveness)
        # a unique routing id: a duplicate name is then a rejection, not a silent takeover
        sock.routing_id = f"{cfg.name}/{os.getpid()}/{os.urandom(4).hex()}".encode()
        if cfg.curve is not None:
            cfg.curve.apply(sock)
        sock.connect(cfg.director)

    def _join(self) -> bool:
        """Say hello until welcomed (True); False when told to stop meanwhile: a stop, not a failure (its owner
        may stop it the moment the director registered it, before the welcome arrived)."""
        cfg = self.config
        streams = list(cfg.streams) or [str(s) for s in getattr(self._action, "streams", ())]
        hello = encode(MsgType.HELLO, name=cfg.name, priority=cfg.priority, divisor=cfg.divisor, streams=streams,
                       protocol=cfg.protocol, host=pysocket.gethostname(), pid=os.getpid(), kind=cfg.kind,
                       ack_mode=cfg.ack_mode.value)
        self._send_hello(hello)
        deadline = time.monotonic() + cfg.hello_timeout_s
        next_hello = time.monotonic() + HELLO_RESEND_S
        while not self.stop_event.is_set():
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                break
            if now >= next_hello:
                self._send_hello(hello)
                next_hello = now + HELLO_RESEND_S
            if not self._sock.poll(min(MAX_POLL_MS, int(remaining * 1000) + 1)):
                continue
            msg = self._receive()
            if msg is not None and msg.type is MsgType.WELCOME:
                self._heartbeat_s, self._liveness = float(msg.body["heartbeat_s"]), msg.body["liveness"]
                self.log.info("joined %s (heartbeat %g s, liveness %d)", cfg.director, self._heartbeat_s,
                              self._liveness)
                self._check_zmtp_timeout()
                return True
            if msg is not None and msg.type is MsgType.REJECT:
                raise PlayerFailed(cfg.name, f"was rejected by the director at {cfg.director}: {msg.body['reason']}")
        if self.stop_event.is_set():
            return False
        raise PlayerFailed(cfg.name, f"got no welcome from {cfg.director} within {cfg.hello_timeout_s:g} s: "
                           "is the director running there? If it requires CURVE, is this player's public key "
                           "in its allowed keys directory?")

    def _check_zmtp_timeout(self) -> None:
        """Warn when the welcome's policy outlasts the connection's ZMTP timeout, and fix it for reconnects."""
        needed = zmtp_timeout_ms(self._heartbeat_s, self._liveness)
        if needed <= self._zmtp_timeout_ms:
            return
        self.log.warning("the director's heartbeat policy (%g s x %d) outlasts this connection's ZMTP timeout "
                         "(%g s): a network partition longer than that drops the connection although the director "
                         "would keep this player; start the player with the director's heartbeat and liveness "
                         "(donki player --heartbeat/--liveness)", self._heartbeat_s, self._liveness,
                         self._zmtp_timeout_ms / 1000)
        self._sock.heartbeat_timeout = self._zmtp_timeout_ms = needed  # connections made from now on

    def _send_hello(self, hello: list[bytes]) -> None:
        import zmq

        try:  # never blocks: with no connection (a CURVE handshake refused) a send would wait forever
            self._sock.send_multipart(hello, zmq.NOBLOCK)
        except zmq.Again:
            pass

    # -- the loop -----------------------------------------------------------------------

    def _serve(self, zmq: Any) -> str:
        sock = self._sock
        # a blocking receive with a timeout, not poll-then-receive: one wake-up per message
        sock.rcvtimeo = max(1, min(MAX_POLL_MS, int(self._heartbeat_s * 500)))
        recv, again = sock.recv_multipart, zmq.Again
        last_heard = time.monotonic()
        next_beat = last_heard + self._heartbeat_s
        limit = self._heartbeat_s * self._liveness
        beat = encode(MsgType.HEARTBEAT)
        while not self.stop_event.is_set():
            try:
                frames = recv()
            except again:
                frames = None
            now = time.monotonic()
            if frames is not None:
                last_heard = now
                fast = protocol.parse_trigger(frames[0]) if len(frames) == 1 else None
                if fast is not None:  # the hot path: a trigger in canonical form
                    self._on_trigger(*fast)
                elif self._dispatch(frames):
                    return PlayerExit.BYE
            if now >= next_beat:
                self._send(beat)
                next_beat = now + self._heartbeat_s
            if now - last_heard > limit:
                self.log.error("no message from the director at %s for %.2f s: it vanished; stopping",
                               self.config.director, now - last_heard)
                return PlayerExit.DIRECTOR_LOST
        return PlayerExit.DIRECTOR_LOST if self._director_gone else PlayerExit.STOPPED

    def _dispatch(self, frames: list[bytes]) -> bool:
        """Handle one message other than a canonical trigger; True when the director said bye."""
        msg = self._decode(frames)
        if msg is None:
            return False
        if msg.type is MsgType.BYE:
            self.log.info("director said bye: %s", msg.body["reason"])
            return True
        if msg.type is MsgType.REJECT:
            raise PlayerFailed(self.config.name, f"was rejected by the director: {msg.body['reason']}")
        self._handlers[msg.type](msg)
        return False

    def _receive(self) -> Message | None:
        return self._decode(self._sock.recv_multipart())

    def _decode(self, frames: list[bytes]) -> Message | None:
        try:
            return decode(frames, DIRECTOR)
        except ProtocolError as exc:
            self.log.warning("ignored a message from the director: %s", exc)
            return None

    def _send(self, frames: list[bytes]) -> None:
        if len(frames) == 1:
            self._sock.send(frames[0])
        else:
            self._sock.send_multipart(frames)

    def _reply(self, msg: Message, ok: bool = True, body: dict[str, Any] | None = None, error: str = "",
               buffers: tuple[bytes, ...] = ()) -> None:
        self._send(encode(MsgType.REPLY, buffers, req=msg.body["req"], ok=ok, body=body or {}, error=error))

    # -- per-trigger work ---------------------------------------------------------------

    def _on_trigger_message(self, msg: Message) -> None:
        self._on_trigger(msg.body["run"], msg.body["trigger"], msg.body["attempt"])

    def _on_trigger(self, run: int, trigger: int, attempt: int) -> None:
        last = self._last
        if last is not None and last[0] == run and last[1] == trigger:
            self.log.info("trigger %d re-sent (attempt %d): answering again without re-running", trigger, attempt)
            self._answer(run, trigger, attempt, *last[2:])
            return
        kind, counts, error = self._perform(trigger)
        self._last = (run, trigger, kind, counts, error)
        self.triggers_done += 1
        self._answer(run, trigger, attempt, kind, counts, error)

    def _perform(self, trigger: int) -> tuple[MsgType, dict[str, int], str]:
        self._busy_since = time.monotonic()
        try:
            if not self.started:
                self._setup()
            if self._action is None:
                raise RuntimeError("the player has no action yet: run() builds it before the first trigger")
            result = self._action(trigger)
            if self._delivery is not None:
                result = self._delivery.wait_delivered(trigger, self.config.delivery_timeout_s)
            if result is None:
                return MsgType.ACK, {}, ""
            if not isinstance(result, ActionResult):
                raise TypeError(f"the action returned {type(result).__name__}; expected ActionResult or None")
            return MsgType.ACK, result.counts(), ""
        except Exception:  # noqa: BLE001 - any failure of the user's action becomes a nack
            text = traceback.format_exc()
            self.log.error("trigger %d failed:\n%s", trigger, text)
            return MsgType.NACK, {}, text
        finally:
            self._busy_since = None

    def _answer(self, run: int, trigger: int, attempt: int, kind: MsgType, counts: dict[str, int],
                error: str) -> None:
        if kind is MsgType.ACK:
            self._send(ack_frames(run, trigger, attempt, counts))
        else:
            self._send(encode(MsgType.NACK, run=run, trigger=trigger, attempt=attempt, counts=counts, error=error))

    # -- commands -----------------------------------------------------------------------

    def _setup(self) -> None:
        setup = getattr(self._action, "setup", None)
        if callable(setup):
            setup()
        self.started = True
        self.log.info("action %r set up", self.config.kind)

    def _teardown(self) -> None:
        if not self.started:
            return
        self.started = False
        teardown = getattr(self._action, "teardown", None)
        try:
            if callable(teardown):
                teardown()
            self.log.info("action %r torn down", self.config.kind)
        except Exception:  # noqa: BLE001 - reported, and the player still leaves cleanly
            self.log.error("teardown failed:\n%s", traceback.format_exc())

    def _on_start(self, msg: Message) -> None:
        try:
            if not self.started:
                self._setup()
        except Exception:  # noqa: BLE001 - sent to the director as a refused start
            self._reply(msg, ok=False, error=traceback.format_exc())
            return
        self._reply(msg)

    def _on_stop(self, msg: Message) -> None:
        self._teardown()
        self._reply(msg)

    def _on_set_priority(self, msg: Message) -> None:
        self.log.info("priority %d -> %d", self.priority, msg.body["priority"])
        self.priority = msg.body["priority"]
        self._reply(msg)

    def _on_info(self, msg: Message) -> None:
        cfg = self.config
        self._reply(msg, body={"name": cfg.name, "kind": cfg.kind, "priority": self.priority,
                               "divisor": cfg.divisor, "streams": list(cfg.streams), "ack_mode": cfg.ack_mode.value,
                               "pid": os.getpid(), "host": pysocket.gethostname(), "mode": self.mode,
                               "started": self.started, "triggers_done": self.triggers_done,
                               "last_trigger": None if self._last is None else self._last[1]})

    def _on_log(self, msg: Message) -> None:
        lines = list(self._ring.lines)[-msg.body["lines"]:]
        self._reply(msg, body={"lines": len(lines)}, buffers=("\n".join(lines).encode(),))


def _ignore(msg: Message) -> None:
    pass
