"""Writing a recording: the raw log while messages arrive, the rest when it is closed.

While recording, the file is open in HDF5 SWMR mode (single writer, multiple readers):
every flush leaves it consistent on disk, so ``donki inspect`` can read a live
recording and a SIGKILLed recorder leaves a readable file holding every message up to
its last flush. Heaps are flushed before the index that points into them, so an index
row never refers to bytes that are not on disk. The NeXus views are built as messages
are appended (:mod:`harness.recording.writer.liveviews`); the file is briefly re-opened
normally when a new source needs its view groups created (SWMR writers must not create
objects). Closing re-opens the file normally and adds the journal, the scenario, the
end-of-run metadata and the views' final counts and attributes.
"""

from __future__ import annotations

import errno
import functools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from harness.chunkheap import ByteHeap
from harness.errors import RecordingError
from harness.recording import format as fmt
from harness.recording.headercodec import encode_headers
from harness.recording.meta import encode_meta, host_info, iso_time, software_versions
from harness.recording.sidecar import scenario_text, write_journal, write_scenario
from harness.recording.writer.liveviews import VIEW_SCHEMAS, ViewBuilder, make_entry
from harness.records import KafkaRecord

__all__ = ["RecordingWriter", "DEFAULT_FLUSH_INTERVAL_S", "DEFAULT_MAX_BUFFER_BYTES", "DEFAULT_MAX_BUFFER_ROWS"]

F = TypeVar("F", bound=Callable[..., Any])


def _io_errors(doing: str) -> Callable[[F], F]:
    """HDF5 write errors (a full disk, a vanished mount) as one :class:`RecordingError` line naming the file."""

    def wrap(method: F) -> F:
        @functools.wraps(method)
        def guarded(self: RecordingWriter, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except (OSError, RuntimeError) as exc:
                raise _write_error(self.path, doing, exc) from None

        return guarded  # type: ignore[return-value]  # functools.wraps keeps the signature; mypy cannot see it

    return wrap


def _write_error(path: Path, doing: str, exc: BaseException) -> RecordingError:
    text = str(exc)
    if getattr(exc, "errno", None) == errno.ENOSPC or "No space left" in text:
        return RecordingError(f"recording {path}: the disk is full (no space left on device) while {doing}; free "
                              "space or record elsewhere (what was flushed before is kept)")
    first = text.splitlines()[0] if text else type(exc).__name__
    return RecordingError(f"recording {path}: cannot write while {doing}: {first}")

DEFAULT_FLUSH_INTERVAL_S = 1.0
#: Bytes received since the last flush that trigger an early flush: bounds what a crash loses.
DEFAULT_MAX_BUFFER_BYTES = 64 << 20
DEFAULT_MAX_BUFFER_ROWS = 65536
#: Recordings with fewer payload bytes are compacted when closed (see harness.recording.writer.compact).
COMPACT_BELOW_BYTES = 32 << 20
_TRIGGER_HEADER = "donki.trigger"
#: How long re-opening the file (for a new source's views) waits for readers that hold it.
REOPEN_WAIT_S = 30.0
REOPEN_RETRY_S = 0.005
#: Up to this many bytes of a batch are joined and appended at once (small messages).
BATCH_JOIN_BYTES = 4 << 20


_ALNUM = np.zeros(256, dtype=bool)
_ALNUM[[*range(48, 58), *range(65, 91), *range(97, 123)]] = True
_IDENT_BYTES = np.arange(4, 8)


def _identifiers(raw: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``raw`` (n x 4 bytes 4-8 of each payload) as S4 identifiers, ``b""`` where not alphanumeric."""
    raw[~(_ALNUM[raw].all(axis=1) & (lengths >= 8))] = 0
    return np.ascontiguousarray(raw).view("S4").reshape(-1)


def _schemas(heads: Sequence[bytes], lengths: np.ndarray) -> np.ndarray:
    """The FlatBuffers file identifier from bytes 4-8 of each payload (``heads``), ``b""`` if none."""
    idents = np.array(heads, dtype="S4")
    return _identifiers(idents.view(np.uint8).reshape(-1, 4).copy(), lengths)


def _schemas_joined(joined: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """As :func:`_schemas`, for payloads joined into one buffer (no per-message slicing)."""
    if len(lengths) and int(lengths.min()) >= 8:
        # bytes 4..7 of every payload as 4 rows (broadcasting this way keeps numpy's inner loop long)
        rows = np.frombuffer(joined, np.uint8).take(_IDENT_BYTES[:, None] + starts)
        if (rows == rows[:, :1]).all():  # the common batch: one schema (or none) throughout
            ident = rows[:, 0].tobytes()
            return np.full(len(lengths), ident if ident.isalnum() else b"", dtype="S4")
        raw = np.ascontiguousarray(rows.T)
        raw[~_ALNUM[rows].all(axis=0)] = 0
        return raw.view("S4").reshape(-1)
    raw = np.zeros((len(lengths), 4), dtype=np.uint8)
    long_enough = lengths >= 8
    if long_enough.any():
        raw[long_enough] = np.frombuffer(joined, np.uint8)[starts[long_enough, None] + _IDENT_BYTES]
    return _identifiers(raw, lengths)


def _trigger_of(headers: Iterable[tuple[str, bytes | None]]) -> int:
    for key, value in headers:
        if key == _TRIGGER_HEADER and value:
            try:
                return int(value)
            except ValueError:
                return fmt.NO_TRIGGER
    return fmt.NO_TRIGGER


# the writer's ``bytes`` property (a count) hides the builtin inside its class body
_Bytes = bytes


class RecordingWriter:
    """Append Kafka messages to a new recording file.

    Parameters
    ----------
    path
        The file to create. An existing file is an error unless ``overwrite`` is true.
    topics
        Topic names known in advance (more are added as messages arrive).
    metadata
        Values stored in ``/meta`` (broker, start position, test id, ...).
    flush_interval_s, max_buffer_bytes, max_buffer_rows
        A flush happens when any of these is reached: a crash loses at most that much.
    views
        Build the NeXus views while appending (default); without, :meth:`close` builds
        them from the raw log if asked to.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        topics: Iterable[str] = (),
        metadata: Mapping[str, Any] | None = None,
        overwrite: bool = False,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        max_buffer_bytes: int = DEFAULT_MAX_BUFFER_BYTES,
        max_buffer_rows: int = DEFAULT_MAX_BUFFER_ROWS,
        views: bool = True,
    ) -> None:
        self.path = Path(path)
        self._flush_interval_s = flush_interval_s
        self._max_bytes = max_buffer_bytes
        self._max_rows = max_buffer_rows
        self._rows: list[tuple[Any, ...]] = []  # single appends (append_fields)
        self._batches: list[np.ndarray] = []  # batch appends (append_messages)
        self._pending_rows = 0
        self._unflushed_bytes = 0
        self._messages = 0
        self._bytes = 0
        self._flushes = 0
        self._closed = False
        self._started = time.time()
        self._next_flush = time.monotonic() + flush_interval_s
        self._h5 = self._create(overwrite)
        self._topic_ids: dict[str, int] = {}
        self._views: ViewBuilder | None = None
        try:
            self._layout(topics, metadata or {})
            if views:
                make_entry(self._h5)
                self._views = ViewBuilder(self._h5, reshape=self._reshape)
            self._h5.swmr_mode = True
        except BaseException:
            self._h5.close()
            raise

    # -- creation ---------------------------------------------------------------------

    def _create(self, overwrite: bool) -> Any:
        import h5py

        if self.path.exists() and not overwrite:
            raise RecordingError(
                f"{self.path} already exists; a recording is never overwritten unless asked "
                f"(--force on the command line, overwrite=True, or a record mode that rewrites)"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return h5py.File(self.path, "w" if overwrite else "w-", libver="latest")
        except (OSError, FileExistsError) as exc:
            raise RecordingError(f"cannot create recording {self.path}: {exc}") from None

    def _layout(self, topics: Iterable[str], metadata: Mapping[str, Any]) -> None:
        h5 = self._h5
        h5.attrs[fmt.ATTR_FORMAT] = fmt.FORMAT_NAME
        h5.attrs[fmt.ATTR_VERSION] = fmt.FORMAT_VERSION
        h5.attrs["NX_class"] = "NXroot"
        h5.attrs["file_name"] = self.path.name
        h5.attrs["file_time"] = iso_time(self._started)
        h5.attrs["creator"] = "pytest-donki"
        raw = h5.create_group(fmt.RAW)
        raw.attrs["NX_class"] = "NXcollection"
        h5.create_dataset(fmt.INDEX, (0,), maxshape=(None,), dtype=fmt.INDEX_DTYPE, chunks=(fmt.INDEX_CHUNK,))
        h5[fmt.INDEX].attrs["timestamp_units"] = "ms"
        h5[fmt.INDEX].attrs["receive_time_units"] = "s"
        h5.create_dataset(fmt.PAYLOAD, (0,), maxshape=(None,), dtype="u1", chunks=(fmt.PAYLOAD_CHUNK,))
        for name in (fmt.KEYS, fmt.HEADERS):
            h5.create_dataset(name, (0,), maxshape=(None,), dtype="u1", chunks=(fmt.SMALL_HEAP_CHUNK,))
        h5.create_dataset(fmt.TOPICS, (0,), maxshape=(None,), dtype=f"S{fmt.MAX_TOPIC_BYTES}", chunks=(64,))
        meta = h5.create_group(fmt.META)
        values = {"started": self._started, "started_iso": iso_time(self._started), "complete": False,
                  "software": software_versions(), **host_info(), **metadata}
        meta.attrs.update(encode_meta(values))
        self._bind_heaps()
        for topic in topics:
            self._topic_id(topic)

    def _bind_heaps(self) -> None:
        h5 = self._h5
        self._payload = ByteHeap(h5[fmt.PAYLOAD])
        self._keys = ByteHeap(h5[fmt.KEYS])
        self._headers = ByteHeap(h5[fmt.HEADERS])

    def _reshape(self, create: Callable[[Any], None]) -> None:
        """Run ``create(h5)`` with the file re-opened out of SWMR mode (which forbids new objects).

        Everything appended is flushed first, so a crash in between loses nothing of the raw log.
        """
        self.flush()
        self._h5.close()
        self._h5 = self._reopen()
        try:
            create(self._h5)
        finally:
            self._h5.swmr_mode = True
            self._bind_heaps()

    def _reopen(self) -> Any:
        """The file re-opened for writing; waits while a reader holds it (one that opened it while it was
        closed, as a file no writer has open, keeps HDF5's lock until it closes it)."""
        import h5py

        deadline = time.monotonic() + REOPEN_WAIT_S
        while True:
            try:
                return h5py.File(self.path, "r+", libver="latest")
            except OSError as exc:
                if "lock" not in str(exc) or time.monotonic() >= deadline:
                    raise RecordingError(f"recording {self.path}: cannot re-open it to add a new source's views "
                                         f"({exc}); a process that opened it without SWMR holds it") from None
                time.sleep(REOPEN_RETRY_S)

    def topic_index(self, topic: str) -> int:
        """The position of ``topic`` in ``raw/topics`` (added if new)."""
        return self._topic_id(topic)

    def _topic_id(self, topic: str) -> int:
        tid = self._topic_ids.get(topic)
        if tid is None:
            encoded = topic.encode()
            if len(encoded) > fmt.MAX_TOPIC_BYTES:
                raise RecordingError(f"topic name {topic[:60]!r}... is longer than Kafka's {fmt.MAX_TOPIC_BYTES} bytes")
            tid = len(self._topic_ids)
            ds = self._h5[fmt.TOPICS]
            ds.resize((tid + 1,))
            ds[tid] = encoded
            self._topic_ids[topic] = tid
        return tid

    # -- appending --------------------------------------------------------------------

    @property
    def messages(self) -> int:
        """Messages appended so far."""
        return self._messages

    @property
    def bytes(self) -> int:
        """Payload bytes appended so far."""
        return self._bytes

    @property
    def flushes(self) -> int:
        return self._flushes

    @_io_errors("appending a message")
    def append(self, record: KafkaRecord) -> None:
        """Append one message."""
        self.append_fields(record.topic, record.partition, record.offset, record.timestamp_type,
                           record.timestamp_ms, record.key, record.value, record.headers, record.received)

    @_io_errors("appending a message")
    def append_message(self, message: Any, received: float) -> None:
        """Append a confluent-kafka ``Message`` without building a :class:`KafkaRecord`."""
        self.append_messages((message,), received)

    @_io_errors("appending messages")
    def append_messages(self, messages: Sequence[Any], received: float) -> np.ndarray | None:
        """Append confluent-kafka ``Message`` objects (without errors) received at ``received``.

        The recorder's hot path: one call per consumed batch, with the per-message work
        done by list comprehensions over the messages' C accessors and numpy, so small
        messages are not limited by Python overhead. Returns the new index rows.
        """
        if self._closed:
            raise RecordingError(f"{self.path}: cannot append to a closed recording")
        count = len(messages)
        if not count:
            return None
        self._rows_to_batch()  # keep single rows appended before this batch in front of it
        # one list comprehension per column over the C accessors (measured 3x faster than
        # one pass building tuples and transposing them with zip)
        values = [m.value() for m in messages]
        if None in values:
            values = [b"" if v is None else v for v in values]
        lengths = np.fromiter(map(len, values), np.int64, count)
        batch = np.zeros(count, dtype=fmt.INDEX_DTYPE)
        self._batch_payloads(batch, values, lengths)
        self._batch_keys(batch, [m.key() for m in messages])
        self._batch_headers(batch, [m.headers() for m in messages])
        topics, partitions = [m.topic() for m in messages], [m.partition() for m in messages]
        self._add_to_views(batch["schema"], topics, values)
        del values
        one_topic = topics.count(topics[0]) == count
        batch["topic"] = self._topic_id(topics[0]) if one_topic else self._topic_ids_of(topics)
        first, last = messages[0].offset(), messages[-1].offset()
        if one_topic and partitions.count(partitions[0]) == count and last - first == count - 1:
            # one partition, whose offsets only grow as it is consumed: count messages that
            # span count offsets are exactly those offsets
            batch["partition"] = partitions[0]
            batch["offset"] = np.arange(first, last + 1, dtype=np.int64)
        else:
            batch["partition"] = np.fromiter(partitions, np.int32, count)
            batch["offset"] = np.fromiter([m.offset() for m in messages], np.int64, count)
        stamps = np.fromiter(chain.from_iterable([m.timestamp() for m in messages]), np.int64, 2 * count)
        batch["timestamp_type"], batch["timestamp"] = stamps[0::2], stamps[1::2]
        batch["receive_time"] = received
        self._batches.append(batch)
        self._pending_rows += count
        self._counted(count, int(lengths.sum()))
        return batch

    def _add_to_views(self, schemas: np.ndarray, topics: list[str], values: list[_Bytes]) -> None:
        if self._views is None:
            return
        rows = np.flatnonzero(np.isin(schemas, VIEW_SCHEMAS)).tolist()
        if rows:
            self._views.add([schemas[i].decode() for i in rows], [topics[i] for i in rows], [values[i] for i in rows])
            self._views.catch_up()

    def _batch_payloads(self, batch: np.ndarray, values: list[_Bytes], lengths: np.ndarray) -> None:
        starts = np.zeros(len(lengths), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        if int(lengths.sum()) <= BATCH_JOIN_BYTES:
            joined = b"".join(values)  # one copy and one append, not one each
            base = self._payload.append(joined)
            batch["schema"] = _schemas_joined(joined, starts, lengths)
        else:  # large messages: written chunk by chunk straight from their buffers
            base = self._payload.size
            for value in values:
                self._payload.append(value)
            batch["schema"] = _schemas([value[4:8] for value in values], lengths)
        batch["payload_start"] = base + starts
        batch["payload_length"] = lengths

    def _batch_keys(self, batch: np.ndarray, keys: Sequence[_Bytes | None]) -> None:
        if keys.count(None) == len(keys):
            batch["key_start"] = self._keys.size
            batch["key_length"] = fmt.NULL_KEY
            return
        lengths = np.array([fmt.NULL_KEY if k is None else len(k) for k in keys], dtype=np.int64)
        batch["key_start"] = self._append_all(self._keys, [k for k in keys if k], np.maximum(lengths, 0))
        batch["key_length"] = lengths

    def _topic_ids_of(self, topics: Sequence[str]) -> list[int]:
        ids = self._topic_ids
        return [ids[t] if t in ids else self._topic_id(t) for t in topics]

    def _batch_headers(self, batch: np.ndarray, headers: Sequence[Any]) -> None:
        if headers.count(None) == len(headers):
            batch["headers_start"] = self._headers.size
            batch["trigger"] = fmt.NO_TRIGGER
            return
        blobs = [encode_headers(h) if h else b"" for h in headers]
        lengths = np.fromiter(map(len, blobs), np.int64, len(blobs))
        batch["headers_start"] = self._append_all(self._headers, [b for b in blobs if b], lengths)
        batch["headers_length"] = lengths
        batch["trigger"] = [_trigger_of(h) if h else fmt.NO_TRIGGER for h in headers]

    @staticmethod
    def _append_all(heap: ByteHeap, parts: list[_Bytes], lengths: np.ndarray) -> np.ndarray:
        """Append the non-empty ``parts`` (``lengths`` per row, 0 for none); start of every row."""
        starts = heap.size + np.concatenate(([0], np.cumsum(lengths)[:-1]))
        total = int(lengths.sum())
        if total <= BATCH_JOIN_BYTES:
            heap.append(b"".join(parts))  # one copy instead of one call per message
        else:  # large messages: written chunk by chunk straight from their buffers
            for part in parts:
                heap.append(part)
        return starts

    @_io_errors("appending a message")
    def append_fields(self, topic: str, partition: int, offset: int, timestamp_type: int, timestamp_ms: int,
                      key: _Bytes | None, value: _Bytes | None, headers: Any, received: float) -> None:
        """Append one message given field by field."""
        if self._closed:
            raise RecordingError(f"{self.path}: cannot append to a closed recording")
        value = value or b""
        size = len(value)
        tid = self._topic_ids.get(topic)
        if tid is None:
            tid = self._topic_id(topic)
        pstart = self._payload.append(value)
        if key is None:
            kstart, klen = self._keys.size, fmt.NULL_KEY
        else:
            kstart, klen = self._keys.append(key), len(key)
        if headers:
            blob = encode_headers(headers)
            hstart, hlen, trigger = self._headers.append(blob), len(blob), _trigger_of(headers)
        else:
            hstart, hlen, trigger = self._headers.size, 0, fmt.NO_TRIGGER
        ident = value[4:8]
        schema = ident if size >= 8 and ident.isalnum() else b""
        self._rows.append((pstart, size, kstart, klen, hstart, hlen, tid, partition, offset, timestamp_ms,
                           timestamp_type, received, schema, trigger))
        if self._views is not None and schema in VIEW_SCHEMAS:
            self._views.add([schema.decode()], [topic], [value])
            self._views.catch_up()
        self._counted(1, size)

    def _rows_to_batch(self) -> None:
        if self._rows:
            self._batches.append(np.array(self._rows, dtype=fmt.INDEX_DTYPE))
            self._pending_rows += len(self._rows)
            self._rows = []

    def _counted(self, count: int, size: int) -> None:
        self._messages += count
        self._bytes += size
        self._unflushed_bytes += size
        if (self._unflushed_bytes >= self._max_bytes or len(self._rows) + self._pending_rows >= self._max_rows
                or time.monotonic() >= self._next_flush):
            self.flush()

    @_io_errors("flushing")
    def maybe_flush(self) -> bool:
        """Let the views catch up; flush if the flush interval has passed (call when idle); true if it flushed."""
        if self._views is not None and self._views.pending:
            self._views.catch_up()
        if time.monotonic() >= self._next_flush:
            self.flush()
            return True
        return False

    @_io_errors("flushing")
    def flush(self) -> None:
        """Make everything appended so far durable and visible to readers."""
        if self._closed:
            return
        self._next_flush = time.monotonic() + self._flush_interval_s
        # heaps first: an index row must never point at bytes that are not on disk
        self._payload.flush()
        self._keys.flush()
        self._headers.flush()
        self._h5[fmt.TOPICS].flush()
        self._rows_to_batch()
        if self._batches:
            rows = np.concatenate(self._batches) if len(self._batches) > 1 else self._batches[0]
            self._batches, self._pending_rows = [], 0
            index = self._h5[fmt.INDEX]
            start = index.shape[0]
            index.resize((start + len(rows),))
            index[start:] = rows
        self._h5[fmt.INDEX].flush()
        if self._views is not None:
            self._views.flush()
        self._unflushed_bytes = 0
        self._flushes += 1

    # -- closing ----------------------------------------------------------------------

    @_io_errors("closing")
    def close(
        self,
        *,
        journal: Any = None,
        scenario: Any = None,
        metadata: Mapping[str, Any] | None = None,
        stop_reason: str = "closed",
        views: bool = True,
        units: Mapping[str, str] | None = None,
    ) -> Path:
        """Flush, then store the journal, scenario, end metadata and finish the NeXus views.

        ``views=False`` removes the views built while recording; ``views=True`` on a writer
        made without them builds them from the raw log now.

        Returns the path of the finished recording. Safe to call twice.
        """
        if self._closed:
            return self.path
        import h5py

        if self._views is not None and views:
            self._views.drain()
        self.flush()
        self._closed = True
        self._h5.close()
        stopped = time.time()
        with h5py.File(self.path, "r+") as h5:
            values = {"stopped": stopped, "stopped_iso": iso_time(stopped), "stop_reason": stop_reason,
                      "messages": self._messages, "bytes": self._bytes, "flushes": self._flushes,
                      "complete": True, **(metadata or {})}
            h5[fmt.META].attrs.update(encode_meta(values))
            write_journal(h5, journal)
            write_scenario(h5, scenario_text(scenario))
            from harness.recording.writer.nexus import finish_views

            finish_views(h5, str(self.path), self._views, wanted=views, units=units)
        if self._bytes < COMPACT_BELOW_BYTES:
            from harness.recording.writer.compact import compact

            compact(self.path)
        return self.path

    def abandon(self) -> None:
        """Flush and close without finishing (what a crash leaves, but clean on disk)."""
        if not self._closed:
            try:
                self.flush()
            finally:  # a full disk fails the flush: the file is still closed, and the flush error raised
                self._closed = True
                self._h5.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        reason = "closed" if exc_type is None else f"error: {exc_type.__name__}: {exc}"
        self.close(stop_reason=reason)
