"""Making replayed data look live: one shift for Kafka timestamps, one for ESS timestamps.

The shifts are anchored on the first message sent (its timestamps become "now") and
grow by one recording span per loop, so looped data never repeats a time. A payload
whose times were moved gets a fresh ``donki.crc32`` header, so integrity checks hold.
"""

from __future__ import annotations

import time

from harness.headers import CRC32, crc32_hex
from harness.recording.fbtime import MS, data_time_ns, shift_times
from harness.records import TIMESTAMP_NOT_AVAILABLE, KafkaRecord

__all__ = ["Retimer", "replace_crc"]


def replace_crc(headers: tuple[tuple[str, bytes | None], ...], payload: bytes) -> tuple[tuple[str, bytes | None], ...]:
    """``headers`` with a ``donki.crc32`` (if present) recomputed for ``payload``."""
    if not any(key == CRC32 for key, _ in headers):
        return headers
    fresh = crc32_hex(payload).encode()
    return tuple((key, fresh if key == CRC32 else value) for key, value in headers)


class Retimer:
    """Shift the timestamps of replayed records (a no-op when disabled).

    One shift moves both clocks, and it is a whole number of milliseconds: the Kafka
    timestamp (ms) and the data times (ns) then move by exactly the same amount, so a
    message whose Kafka timestamp was its data time (ms) keeps that property. Two shifts
    anchored separately (one on ``now`` in ms, one in ns) disagreed by 1 ms on most
    messages after a live replay.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.delta_ms: int | None = None
        self.unshifted = 0  # payloads of a known schema that were malformed and sent as recorded

    def _anchor(self, first_ms: int) -> int:
        if self.delta_ms is None:
            self.delta_ms = time.time_ns() // MS - first_ms
        return self.delta_ms

    def apply(self, record: KafkaRecord,
              loop_shift_ns: int = 0) -> tuple[bytes, tuple[tuple[str, bytes | None], ...], int | None]:
        """Payload, headers and Kafka timestamp (``None``: let the producer stamp it) to send.

        ``loop_shift_ns`` (a loop's extra shift) is rounded up to whole milliseconds.
        """
        # a log-append time is replayed as the create time it was: the data keep their recorded times
        has_time = record.timestamp_type != TIMESTAMP_NOT_AVAILABLE and record.timestamp_ms >= 0
        timestamp = record.timestamp_ms if has_time else None
        if not self.enabled:
            return record.value, record.headers, timestamp
        payload = record.value
        first = data_time_ns(payload)
        if first is not None:
            delta_ms = self._anchor(first // MS)
        elif timestamp is not None:
            delta_ms = self._anchor(timestamp)
        else:
            return payload, record.headers, timestamp
        delta_ms += -(-loop_shift_ns // MS)
        if timestamp is not None:
            timestamp += delta_ms
        if first is None:
            return payload, record.headers, timestamp
        try:
            payload = shift_times(payload, delta_ms * MS)
        except ValueError:
            self.unshifted += 1
            return record.value, record.headers, timestamp
        return payload, replace_crc(record.headers, payload), timestamp
