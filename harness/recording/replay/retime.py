"""Making replayed data look live: one shift for Kafka timestamps, one for ESS timestamps.

The shifts are anchored on the first message sent (its timestamps become "now") and
grow by one recording span per loop, so looped data never repeats a time. A payload
whose times were moved gets a fresh ``donki.crc32`` header, so integrity checks hold.
"""

from __future__ import annotations

import time

from harness.headers import CRC32, crc32_hex
from harness.recording.fbtime import data_time_ns, shift_times
from harness.records import TIMESTAMP_NOT_AVAILABLE, KafkaRecord

__all__ = ["Retimer", "replace_crc"]


def replace_crc(headers: tuple[tuple[str, bytes | None], ...], payload: bytes) -> tuple[tuple[str, bytes | None], ...]:
    """``headers`` with a ``donki.crc32`` (if present) recomputed for ``payload``."""
    if not any(key == CRC32 for key, _ in headers):
        return headers
    fresh = crc32_hex(payload).encode()
    return tuple((key, fresh if key == CRC32 else value) for key, value in headers)


class Retimer:
    """Shift the timestamps of replayed records (a no-op when disabled)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.kafka_delta_ms: int | None = None
        self.data_delta_ns: int | None = None
        self.unshifted = 0  # payloads of a known schema that were malformed and sent as recorded

    def apply(self, record: KafkaRecord,
              loop_shift_ns: int = 0) -> tuple[bytes, tuple[tuple[str, bytes | None], ...], int | None]:
        """Payload, headers and Kafka timestamp (``None``: let the producer stamp it) to send."""
        # a log-append time is replayed as the create time it was: the data keep their recorded times
        has_time = record.timestamp_type != TIMESTAMP_NOT_AVAILABLE and record.timestamp_ms >= 0
        timestamp = record.timestamp_ms if has_time else None
        if not self.enabled:
            return record.value, record.headers, timestamp
        now_ns = time.time_ns()
        if timestamp is not None:
            if self.kafka_delta_ms is None:
                self.kafka_delta_ms = now_ns // 1_000_000 - timestamp
            timestamp += self.kafka_delta_ms + loop_shift_ns // 1_000_000
        payload = record.value
        first = data_time_ns(payload)
        if first is None:
            return payload, record.headers, timestamp
        if self.data_delta_ns is None:
            self.data_delta_ns = now_ns - first
        try:
            payload = shift_times(payload, self.data_delta_ns + loop_shift_ns)
        except ValueError:
            self.unshifted += 1
            return record.value, record.headers, timestamp
        return payload, replace_crc(record.headers, payload), timestamp
