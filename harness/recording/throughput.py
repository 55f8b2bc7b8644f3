"""Message and byte rates of a recorder or replayer report."""

from __future__ import annotations

__all__ = ["Throughput"]


class Throughput:
    """For reports with ``messages``, ``bytes`` and ``elapsed_s``."""

    messages: int
    bytes: int
    elapsed_s: float

    @property
    def msg_per_s(self) -> float:
        return self.messages / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.elapsed_s if self.elapsed_s > 0 else 0.0
