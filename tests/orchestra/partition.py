"""A TCP relay whose traffic can be held: a network partition between players and a director."""

from __future__ import annotations

import socket
import threading


class PartitionRelay:
    """Relays connections to ``target`` (host, port); :meth:`hold` stops all traffic without closing
    anything (as a partitioned network does), :meth:`release` lets it flow again.

    ``connections`` counts the connections accepted: a peer that dropped its connection and
    reconnected shows as a second one.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.endpoint = f"tcp://127.0.0.1:{self._listener.getsockname()[1]}"
        self._open = threading.Event()
        self._open.set()
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                near, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            far = socket.create_connection(self._target)
            self.connections += 1
            self._sockets += [near, far]
            for src, dst in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        src.settimeout(0.1)
        while not self._stop.is_set():
            if not self._open.wait(0.1):
                continue  # held: nothing read, so nothing passes, and nothing is closed
            try:
                data = src.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            while not self._open.wait(0.1):  # read just before the hold: it waits too
                if self._stop.is_set():
                    return
            try:
                dst.sendall(data)
            except OSError:
                break
        for sock in (src, dst):
            sock.close()

    def close(self) -> None:
        self._stop.set()
        self._open.set()
        self._listener.close()
        for sock in self._sockets:
            sock.close()
