"""Messages for recording tests: arbitrary bytes and real ESS FlatBuffers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from harness.headers import make_headers
from harness.records import KafkaRecord

__all__ = ["ev44", "f144", "mixed_records", "produce_records", "same_message", "wait_for_messages",
           "kill_while_streaming"]

T0_MS = 1_700_000_000_000


def ev44(source: str, message_id: int, pulse_ns: int, events: int, seed: int = 0) -> bytes:
    from streaming_data_types import serialise_ev44

    rng = np.random.default_rng(seed + message_id)
    return serialise_ev44(source, message_id, [pulse_ns], [0], rng.integers(0, 71_000_000, events, dtype=np.int32),
                          rng.integers(1, 4096, events, dtype=np.int32))


def f144(source: str, value, ns: int) -> bytes:
    from streaming_data_types import serialise_f144

    return serialise_f144(source, value, ns)


def mixed_records(topic: str, count: int, partitions: int = 1, stream: str = "s") -> list[KafkaRecord]:
    """Harness-headed ev44/f144 messages and foreign odd ones: null/empty keys and values, raw bytes."""
    out = []
    for i in range(count):
        ts = T0_MS + 10 * i
        kind = i % 4
        if kind == 0:
            value = ev44("det", i, ts * 1_000_000, 1 + i % 7)
        elif kind == 1:
            value = f144("temp", float(i) / 3, ts * 1_000_000)
        elif kind == 2:
            value = bytes(range(256)) * (i % 3) + b"\x00raw"
        else:
            value = b""
        if kind < 2:
            headers = make_headers(stream, i + 1, i, value)
        else:
            headers = (("x", None), ("x", b"")) if kind == 2 else ()
        key = None if i % 3 == 0 else (b"" if i % 3 == 1 else f"key-{i}".encode())
        out.append(KafkaRecord(topic, i % partitions, i // partitions, ts, 1, key, value, tuple(headers), time.time()))
    return out


def produce_records(client_config, records: Iterable[KafkaRecord], topic_map=None, timeout_s: float = 30.0) -> int:
    """Produce ``records`` (to their partition) and wait for delivery; returns the count."""
    from harness.kafka import make_producer

    producer = make_producer(client_config)
    count = 0
    for record in records:
        topic = (topic_map or {}).get(record.topic, record.topic)
        producer.produce(topic, record.value, record.key, partition=record.partition, headers=list(record.headers),
                         timestamp=record.timestamp_ms)
        count += 1
        producer.poll(0)
    assert producer.flush(timeout_s) == 0, "messages were not delivered"
    return count


def same_message(a: KafkaRecord, b: KafkaRecord) -> bool:
    """Equal in everything a replay must keep (not offset or receive time)."""
    return (a.value, a.key, a.headers, a.partition, a.timestamp_ms) == (b.value, b.key, b.headers, b.partition,
                                                                      b.timestamp_ms)


def wait_for_messages(path: Path, count: int, timeout_s: float) -> int:
    """Wait until a live recording at ``path`` shows at least ``count`` messages; returns how many it shows."""
    from harness.recording.reader.reader import open_recording

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            try:
                with open_recording(path) as live:
                    if len(live) >= count:
                        return len(live)
            except Exception:  # noqa: BLE001 - the file may be between creation and its first flush
                pass
        time.sleep(0.1)
    raise AssertionError(f"{path} did not reach {count} messages within {timeout_s} s")


def kill_while_streaming(child: Any, path: Path, client_config: dict, batch: Callable[[int], list[KafkaRecord]],
                         first: int, step: int, until: int) -> None:
    """SIGKILL the recorder ``child`` while it is busy: ``batch(first)``, ``batch(first + step)``, ... keep
    being produced until the recording at ``path`` shows ``until`` messages, then it is killed."""
    stop = threading.Event()

    def stream() -> None:
        at = first
        while not stop.is_set():
            produce_records(client_config, batch(at))
            at += step

    streamer = threading.Thread(target=stream, daemon=True)
    streamer.start()
    try:
        wait_for_messages(path, until, timeout_s=30)
        child.kill()
        assert child.returncode == -9, child.log_tail()
    finally:
        stop.set()
        streamer.join(30)


def records_left_by_kill(path: Path) -> list[KafkaRecord]:
    """Every message a killed recorder left at ``path``, read as a live recording (writer still marked, not
    complete), so a test checks what survived the kill."""
    from harness.recording.reader.reader import open_recording

    with open_recording(path) as recording:
        assert recording.writer_open and not recording.complete
        return list(recording.records())
