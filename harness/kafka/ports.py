"""Free loopback ports, and a clear error when a chosen one is taken."""

from __future__ import annotations

import errno
import socket

from harness.errors import BrokerStartError

__all__ = ["free_ports", "ensure_port_free"]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports the kernel considers free right now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def ensure_port_free(port: int, host: str = "127.0.0.1", what: str = "port") -> None:
    """Raise a :class:`BrokerStartError` naming ``port`` if something listens on it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BrokerStartError(
                f"{what} {host}:{port} is already in use by another process; "
                "choose another port or leave it unset to get a free one."
            ) from None
        raise BrokerStartError(f"cannot bind {what} {host}:{port}: {exc.strerror}") from None
    finally:
        sock.close()
