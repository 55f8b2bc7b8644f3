"""A player's watch over its director, from a thread its action cannot block.

The player's I/O thread runs the action between messages; an action stuck in a call
never returns to read heartbeats, so that thread cannot notice a director that died. This
thread watches the DEALER socket's monitor events instead: libzmq answers and sends
ZMTP heartbeats in its own I/O thread (:data:`~harness.orchestra.liveness.ZMTP_HEARTBEAT_MS`,
with the timeout the heartbeat policy gives), so a dead or unreachable director shows as a
disconnect whatever the player's Python code is doing.
A disconnect not healed within the limit, while the action is busy, calls ``on_gone``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from harness.orchestra.liveness import ZMTP_HEARTBEAT_MS, zmtp_timeout_ms

__all__ = ["DirectorWatch", "configure_heartbeats"]

POLL_MS = 100


def configure_heartbeats(sock: Any, heartbeat_s: float, liveness: int) -> int:
    """ZMTP heartbeats on ``sock``, answered by libzmq even when Python is busy; returns the timeout (ms).

    A connection takes the options in force when it is made: set them before connecting.
    With no traffic for the timeout libzmq drops the connection (a partitioned director);
    it outlasts the director's heartbeat policy (:func:`~harness.orchestra.liveness.zmtp_timeout_ms`).
    """
    timeout_ms = zmtp_timeout_ms(heartbeat_s, liveness)
    sock.heartbeat_ivl = ZMTP_HEARTBEAT_MS
    sock.heartbeat_timeout = timeout_ms
    return timeout_ms


class DirectorWatch:
    """Watches ``sock``'s connection; calls ``on_gone(reason)`` once, from its own thread.

    Call :meth:`start` in the thread that owns ``sock`` (the monitor is created there) and
    :meth:`close` there too, before the context is terminated.
    """

    def __init__(self, sock: Any, limit_s: float, busy: Callable[[], bool], on_gone: Callable[[str], None]) -> None:
        self._sock = sock
        self._limit_s = limit_s
        self._busy = busy
        self._on_gone = on_gone
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.fired = False

    def start(self) -> DirectorWatch:
        import zmq

        monitor = self._sock.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED
                                                | zmq.EVENT_HANDSHAKE_SUCCEEDED)
        self._thread = threading.Thread(target=self._watch, args=(monitor,), name="donki-director-watch",
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(5.0)
        self._thread = None
        with contextlib.suppress(Exception):  # the socket may be closed already; the monitor is gone either way
            self._sock.disable_monitor()

    def _watch(self, monitor: Any) -> None:
        import zmq
        from zmq.utils.monitor import recv_monitor_message

        gone_since: float | None = None
        try:
            while not self._stop.is_set():
                if monitor.poll(POLL_MS):
                    event = recv_monitor_message(monitor)["event"]
                    if event == zmq.EVENT_DISCONNECTED:
                        gone_since = gone_since if gone_since is not None else time.monotonic()
                    else:
                        gone_since = None  # connected again
                if gone_since is not None and not self.fired and self._busy():
                    silence = time.monotonic() - gone_since
                    if silence > self._limit_s:
                        self.fired = True
                        self._on_gone(f"disconnected from the director for {silence:.1f} s while the action "
                                      "was busy")
        finally:
            monitor.close(0)
