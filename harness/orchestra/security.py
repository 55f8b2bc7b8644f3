"""CURVE authentication for directors on a shared network.

Keys are ZeroMQ certificate files as written by :func:`zmq.auth.create_certificates`
(``NAME.key`` holds the public key, ``NAME.key_secret`` both). The director answers ZAP
requests in a thread of its own (:class:`ZapService`, so that its I/O loop waits on its
ROUTER alone) against a directory of allowed public keys, and hands each refusal to the
loop, which journals it like any other rejected player.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError

__all__ = ["CurveServer", "CurveClient", "generate_keypair", "ZapHandler", "ZapService", "ZAP_ENDPOINT",
           "ZAP_DOMAIN"]

ZAP_ENDPOINT = "inproc://zeromq.zap.01"  # fixed by RFC 27/ZAP
ZAP_VERSION = b"1.0"
ZAP_DOMAIN = "donki"
ZAP_POLL_MS = 100  # bounds how long closing the ZAP service waits for its thread


def _load_pair(path: Path, what: str, need_secret: bool) -> tuple[bytes, bytes | None]:
    import zmq.auth

    try:
        public, secret = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{what} {path}: cannot read a ZeroMQ certificate ({exc}); "
                          "create one with `donki curve-keys NAME --dir DIR`") from None
    if need_secret and not secret:
        raise ConfigError(f"{what} {path} has no secret key; pass the NAME.key_secret file, not NAME.key")
    return public, secret


@dataclass(frozen=True)
class CurveServer:
    """Director side: its own secret certificate and the directory of allowed player keys."""

    secret_file: Path
    allowed_dir: Path

    def apply(self, socket: Any) -> set[bytes]:
        """Make ``socket`` a CURVE server; returns the allowed public keys (Z85)."""
        import zmq.auth

        public, secret = _load_pair(Path(self.secret_file), "director secret key", True)
        allowed_dir = Path(self.allowed_dir)
        if not allowed_dir.is_dir():
            raise ConfigError(f"allowed player keys directory {allowed_dir} does not exist; "
                              "create it and copy each player's NAME.key into it")
        allowed = set(zmq.auth.load_certificates(str(allowed_dir)))
        socket.curve_secretkey = secret
        socket.curve_publickey = public
        socket.curve_server = True
        socket.zap_domain = ZAP_DOMAIN.encode()
        return allowed

    @property
    def public_key(self) -> bytes:
        return _load_pair(Path(self.secret_file), "director secret key", True)[0]


@dataclass(frozen=True)
class CurveClient:
    """Player side: its own secret certificate and the director's public key file."""

    secret_file: Path
    server_public_file: Path

    def apply(self, socket: Any) -> None:
        public, secret = _load_pair(Path(self.secret_file), "player secret key", True)
        server_public, _ = _load_pair(Path(self.server_public_file), "director public key", False)
        socket.curve_secretkey = secret
        socket.curve_publickey = public
        socket.curve_serverkey = server_public

    def to_dict(self) -> dict[str, str]:
        return {"secret_file": str(self.secret_file), "server_public_file": str(self.server_public_file)}


def generate_keypair(directory: Path, name: str) -> tuple[Path, Path]:
    """Write ``NAME.key`` (public) and ``NAME.key_secret`` into ``directory``."""
    import zmq.auth

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    public, secret = zmq.auth.create_certificates(str(directory), name)
    Path(secret).chmod(0o600)
    return Path(public), Path(secret)


class ZapHandler:
    """Answers ZAP requests for CURVE connections against a set of allowed keys."""

    def __init__(self, context: Any, allowed: set[bytes]) -> None:
        import zmq

        self.allowed = allowed
        self.socket = context.socket(zmq.REP)
        self.socket.linger = 0
        self.socket.bind(ZAP_ENDPOINT)

    def handle(self) -> tuple[bool, str, str]:
        """Answer one pending request; returns (allowed, client key Z85, peer address)."""
        from zmq.utils import z85

        frames = self.socket.recv_multipart()
        request_id = frames[1] if len(frames) > 1 else b""
        allowed, key, address = False, "", ""
        if len(frames) >= 7 and frames[0] == ZAP_VERSION and frames[5] == b"CURVE" and len(frames[6]) == 32:
            address = frames[3].decode("ascii", "replace")
            key_z85 = z85.encode(frames[6])
            key = key_z85.decode("ascii")
            allowed = key_z85 in self.allowed
        status = (b"200", b"OK") if allowed else (b"400", b"key not allowed")
        self.socket.send_multipart([ZAP_VERSION, request_id, *status, key.encode(), b""])
        return allowed, key, address

    def close(self) -> None:
        self.socket.close(0)


class ZapService:
    """Serves a :class:`ZapHandler` in a thread; ``on_refused(key, address)`` is called from it per refusal."""

    def __init__(self, handler: ZapHandler, on_refused: Callable[[str, str], object]) -> None:
        self.handler = handler
        self._on_refused = on_refused
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ZapService:
        self._thread = threading.Thread(target=self._serve, name="donki-zap", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        socket = self.handler.socket
        while not self._stop.is_set():
            if socket.poll(ZAP_POLL_MS):
                allowed, key, address = self.handler.handle()
                if not allowed:
                    self._on_refused(key, address)

    def close(self) -> None:
        """Stop the thread, then close the handler's socket (in this order: a socket is not shared)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        self.handler.close()
