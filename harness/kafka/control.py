"""Killing and restarting nodes of a running ``donki kafka start`` from another process.

The process that ran ``donki kafka start`` owns its nodes (they die with it), so it
also does the killing and restarting: it writes a state file in the user cache (its
pid, bootstrap, each node's pid and port, and a Unix socket) and answers one JSON
request per connection on that socket. ``donki kafka node kill|restart N`` reads the
state file and asks; the answer comes once the node is dead, or serves again.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import BrokerError, ConfigError, DonkiError

if TYPE_CHECKING:
    from harness.kafka.local import LocalKafka

__all__ = ["ControlServer", "default_state_path", "read_state", "send_command", "OPERATIONS"]

OPERATIONS = ("kill", "restart")
ACCEPT_SLICE_S = 0.5
REQUEST_LIMIT = 4096
#: what a restart may take, plus the answer's way back
RESTART_TIMEOUT_S = 90.0


def default_state_path() -> Path:
    """``$DONKI_KAFKA_STATE``, else ``cluster.json`` in the Kafka cache (see ``donki kafka status``)."""
    from harness.kafka.runtime import cache_root

    return Path(os.environ.get("DONKI_KAFKA_STATE") or cache_root() / "cluster.json")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(path: Path) -> dict[str, Any]:
    """The state of the running cluster; a :class:`ConfigError` saying what to start when there is none."""
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"no running cluster: {path} does not exist; start one with `donki kafka start`") from None
    except ValueError as exc:
        raise ConfigError(f"state file {path} is not JSON ({exc}); remove it and start the cluster again") from None
    if not isinstance(state, dict) or not _pid_alive(int(state.get("pid", 0))):
        raise ConfigError(f"state file {path} names process {state.get('pid') if isinstance(state, dict) else '?'}, "
                          "which has ended; start the cluster again with `donki kafka start`")
    return state


class ControlServer:
    """Answers kill/restart requests for ``broker`` and keeps the state file current."""

    def __init__(self, broker: LocalKafka, state_path: Path) -> None:
        self.broker = broker
        self.state_path = state_path
        self.socket_path = state_path.with_suffix(".sock")
        self._socket: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> ControlServer:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.socket_path))
        server.listen(4)
        server.settimeout(ACCEPT_SLICE_S)
        self._socket = server
        self.write_state()
        self._thread = threading.Thread(target=self._serve, name="donki-kafka-control", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(ACCEPT_SLICE_S * 4)
        if self._socket is not None:
            self._socket.close()
        self.socket_path.unlink(missing_ok=True)
        try:
            if json.loads(self.state_path.read_text()).get("pid") == os.getpid():
                self.state_path.unlink()
        except (OSError, ValueError):
            pass

    def __enter__(self) -> ControlServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def busy(self) -> bool:
        """A request is being carried out (the caller's node watch should look away)."""
        return self._lock.locked()

    def write_state(self) -> None:
        nodes = {str(n): {"pid": self.broker.node_pid(n), "bootstrap": self.broker.node_bootstrap(n)}
                 for n in range(1, self.broker.nodes + 1)}
        state = {"pid": os.getpid(), "bootstrap": self.broker.bootstrap_servers, "socket": str(self.socket_path),
                 "nodes": nodes}
        partial = self.state_path.with_suffix(".tmp")
        partial.write_text(json.dumps(state, indent=2) + "\n")
        partial.replace(self.state_path)

    def _serve(self) -> None:
        assert self._socket is not None
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(5.0)
                self._answer(connection)

    def _answer(self, connection: socket.socket) -> None:
        try:
            request = json.loads(connection.recv(REQUEST_LIMIT) or b"{}")
            reply = self._carry_out(request)
        except (ValueError, TypeError, OSError, RecursionError) as exc:
            reply = {"ok": False, "error": f"bad request: {type(exc).__name__}: {exc}"}
        try:
            connection.sendall(json.dumps(reply).encode() + b"\n")
        except OSError:
            pass  # the asking process went away; the node operation itself was done

    def _carry_out(self, request: dict[str, Any]) -> dict[str, Any]:
        op, node = request.get("op"), request.get("node")
        if op not in OPERATIONS or not isinstance(node, int):
            return {"ok": False, "error": f"expected op in {OPERATIONS} and an integer node, got {request!r}"}
        with self._lock:
            try:
                if op == "kill":
                    self.broker.kill(node)
                else:
                    self.broker.restart(node, timeout_s=float(request.get("timeout_s") or RESTART_TIMEOUT_S))
            except DonkiError as exc:
                return {"ok": False, "error": str(exc)}
            finally:
                self.write_state()
        return {"ok": True, "detail": f"node {node} {'killed' if op == 'kill' else 'serves again'}"}


def send_command(state_path: Path, op: str, node: int, timeout_s: float = RESTART_TIMEOUT_S) -> str:
    """Ask the running cluster to ``op`` node ``node``; returns its one-line answer."""
    state = read_state(state_path)
    if str(node) not in state.get("nodes", {}):
        raise ConfigError(f"node {node} is not a node of the cluster at {state.get('bootstrap')}; "
                          f"nodes: {', '.join(sorted(state.get('nodes', {})))}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout_s + 10.0)
        try:
            client.connect(state["socket"])
            client.sendall(json.dumps({"op": op, "node": node, "timeout_s": timeout_s}).encode())
            answer = client.makefile("rb").readline()
        except OSError as exc:
            raise BrokerError(f"the cluster's control socket {state.get('socket')} did not answer: {exc}") from None
    reply = json.loads(answer or b'{"ok": false, "error": "no answer"}')
    if not reply.get("ok"):
        raise BrokerError(f"{op} node {node}: {reply.get('error')}")
    return str(reply.get("detail"))
