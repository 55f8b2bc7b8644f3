"""Reading a recording: validated on open, messages as :class:`KafkaRecord` in order.

A file that is not HDF5, is truncated or damaged, lacks a group, or carries an unknown
or newer format version is a :class:`RecordingError` naming the file and what is wrong;
it is never read as an empty recording. A file still being written (or left behind by a
killed recorder) is opened in SWMR read mode and reads up to its last flush, with
:attr:`Recording.complete` false.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import RecordingError
from harness.recording import format as fmt
from harness.recording.headercodec import decode_headers
from harness.recording.meta import decode_meta
from harness.recording.reader.selection import select_rows
from harness.recording.sidecar import ScenarioText, read_journal, read_scenario
from harness.records import KafkaRecord

__all__ = ["Recording", "open_recording", "topic_partitions"]

#: Consecutive small payloads are read with one HDF5 read of at most this many bytes.
READ_BLOCK_BYTES = 8 << 20
BLOCK_ROWS = 4096
_REQUIRED = (fmt.RAW, fmt.INDEX, fmt.PAYLOAD, fmt.KEYS, fmt.HEADERS, fmt.TOPICS, fmt.META)
_OPEN_BY_WRITER = "already open for write"
#: How long opening waits while a writer holds the file out of SWMR mode (a live recorder re-opens it
#: for milliseconds to add a new source's views); then it says so, not that the file is damaged.
LOCKED_WAIT_S = 10.0
LOCKED_RETRY_S = 0.01
#: what h5py and numpy raise on a damaged file; each becomes a RecordingError naming the file
HDF5_ERRORS = (OSError, RuntimeError, ValueError, KeyError, TypeError, UnicodeDecodeError, OverflowError)


def topic_partitions(index: np.ndarray) -> list[tuple[int, int]]:
    """The distinct (topic id, partition) pairs of index rows (one integer sort, not a record sort)."""
    if not len(index):
        return []
    combined = np.unique(index["topic"].astype(np.int64) << 32 | index["partition"].astype(np.int64))
    return [(int(c >> 32), int(c & 0xFFFFFFFF)) for c in combined]


def _stream_header(headers: Iterable[tuple[str, bytes | None]]) -> str | None:
    for key, value in headers:
        if key == "donki.stream" and value is not None:
            return value.decode(errors="replace")
    return None


def open_recording(path: str | Path) -> Recording:
    """Open and validate a recording (use as a context manager)."""
    return Recording(path)


def _open_h5(path: Path) -> tuple[Any, bool]:
    """The open h5py file and whether a writer holds it (live or killed)."""
    import h5py

    if not path.exists():
        raise RecordingError(f"recording {path} does not exist")
    if path.is_dir():
        raise RecordingError(f"recording {path} is a directory, expected an HDF5 file")
    if path.stat().st_size == 0:
        raise RecordingError(f"{path} is empty (0 bytes), not a recording; was it written at all?")
    if not h5py.is_hdf5(str(path)):
        with open(path, "rb") as fh:
            head = fh.read(8)
        raise RecordingError(f"{path} is not an HDF5 file (starts with {head!r}); expected a pytest-donki recording")
    _check_global_heaps(path)
    deadline = time.monotonic() + LOCKED_WAIT_S
    while True:
        try:
            return _open_unlocked(path)
        except BlockingIOError as exc:  # a writer holds it out of SWMR mode: a live recorder adding views does, briefly
            if time.monotonic() >= deadline:
                raise RecordingError(f"{path} is held open for writing (not in SWMR mode) by another process for "
                                     f"over {LOCKED_WAIT_S:g} s; try again when it closes ({exc})") from None
            time.sleep(LOCKED_RETRY_S)


def _open_unlocked(path: Path) -> tuple[Any, bool]:
    """One attempt of :func:`_open_h5`; raises BlockingIOError while a writer holds HDF5's lock."""
    import h5py

    try:
        return h5py.File(path, "r"), False
    except RuntimeError as exc:
        raise RecordingError(f"{path} is damaged and cannot be opened: {exc}") from None
    except BlockingIOError:
        raise
    except OSError as exc:
        if _OPEN_BY_WRITER not in str(exc):
            raise RecordingError(f"{path} is damaged and cannot be opened: {exc}") from None
    try:
        return h5py.File(path, "r", libver="latest", swmr=True), True
    except BlockingIOError:
        raise
    except OSError as exc:
        raise RecordingError(f"{path} is damaged and cannot be opened (also not in SWMR mode): {exc}") from None


GCOL = b"GCOL"
GCOL_HEADER = 16  # signature, version, 3 reserved, collection size (8)
GCOL_SCAN_BYTES = 1 << 20  # a big file is scanned at both ends, where HDF5 puts what it writes at create and close
GCOL_SCAN_WHOLE = 64 << 20  # a file up to this size is scanned whole


def _check_global_heaps(path: Path) -> None:
    """Refuse a file whose HDF5 global heap (variable-length strings) would hang libhdf5.

    libhdf5 walks a heap collection object by object; a free-space object of size 0 (one bit
    flip) makes that walk stand still forever, holding the GIL, where no timeout can reach it.
    Every collection a variable-length dataset points at is walked (its elements name their
    collection's address); the collections of string attributes, which cannot be read raw,
    are found by signature anywhere in a small file and at both ends of a big one, where
    HDF5 writes attributes when the file is created and closed.
    """
    import mmap

    size = path.stat().st_size
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        spans = [(0, size)] if size <= GCOL_SCAN_WHOLE else [(0, GCOL_SCAN_BYTES), (size - GCOL_SCAN_BYTES, size)]
        found = set()
        for low, high in spans:
            at = data.find(GCOL, low, high)
            while at != -1:
                found.add(at)
                at = data.find(GCOL, at + 1, high)
        if size > GCOL_SCAN_WHOLE:
            found |= _vlen_collections(path, data)
        for at in sorted(found):
            problem = _walk_collection(data, at, size)
            if problem:
                raise RecordingError(f"{path} is damaged: the HDF5 global heap at byte {at} {problem}")


VLEN_ELEMENT = 16  # a stored variable-length element: length (4), collection address (8), object index (4)


def _vlen_collections(path: Path, data: Any) -> set[int]:
    """Addresses of the heap collections the variable-length datasets of ``path`` point at.

    Read from each dataset's raw, unfiltered storage (contiguous or chunk by chunk), so no
    heap object is touched; a file HDF5 cannot open here is left to the open that follows.
    """
    import h5py

    found: set[int] = set()

    def spans(ds: Any) -> list[tuple[int, int]]:
        if ds.chunks is None:
            offset = ds.id.get_offset()
            return [] if offset is None else [(offset, ds.id.get_storage_size())]
        chunks = []
        for i in range(ds.id.get_num_chunks()):
            info = ds.id.get_chunk_info(i)
            if info.filter_mask == 0 and not ds.compression:
                chunks.append((info.byte_offset, info.size))
        return chunks

    def visit(_name: str, obj: Any) -> None:
        if not isinstance(obj, h5py.Dataset) or obj.dtype.kind != "O":
            return
        for offset, length in spans(obj):
            raw = data[offset:offset + length - length % VLEN_ELEMENT]
            for element in range(0, len(raw), VLEN_ELEMENT):
                if int.from_bytes(raw[element:element + 4], "little"):
                    found.add(int.from_bytes(raw[element + 4:element + 12], "little"))

    try:
        with h5py.File(path, "r", locking=False) as h5:
            h5.visititems(visit)
    except (OSError, RuntimeError, ValueError, KeyError):
        pass
    return found


def _walk_collection(data: Any, at: int, size: int) -> str | None:
    header = data[at:at + GCOL_HEADER]
    if len(header) < GCOL_HEADER or header[4] != 1 or header[5:8] != b"\0\0\0":
        return None  # the four letters inside other data, not a collection
    end = at + int.from_bytes(header[8:16], "little")
    if end > size or end - at < 4096:
        return None
    p = at + GCOL_HEADER
    while p + 16 <= end:
        index = int.from_bytes(data[p:p + 2], "little")
        length = int.from_bytes(data[p + 8:p + 16], "little")
        step = length if index == 0 else 16 + (length + 7) // 8 * 8
        if step <= 0:
            return "has an object of size 0 (libhdf5 would loop forever reading it)"
        p += step
    return None


class Recording:
    """A recording file opened for reading.

    Attributes
    ----------
    path, version
        The file and its format version.
    complete
        True when the recorder closed it; false for a live file or one a crash left.
    writer_open
        True when the file is still marked open by a writer (live, or the writer died).
    """

    def __init__(self, path: str | Path, *, h5: Any = None) -> None:
        self.path = Path(path)
        self._owns_file = h5 is None
        if h5 is None:
            self._h5, self.writer_open = _open_h5(self.path)
        else:  # an h5py.File the caller opened (and closes)
            self._h5, self.writer_open = h5, False
        try:
            self.version = fmt.check_version(self._h5.attrs, str(self.path))
            self._load()
        except HDF5_ERRORS as exc:  # h5py's own errors on damaged metadata, e.g. "Error iterating over attributes"
            self.close()
            raise self._damaged(f"HDF5 cannot read it ({type(exc).__name__}: {exc})") from None
        except BaseException:
            self.close()
            raise
        self._streams: np.ndarray | None = None

    # -- validation -------------------------------------------------------------------

    def _damaged(self, what: str) -> RecordingError:
        return RecordingError(f"{self.path} is damaged: {what}")

    def _load(self) -> None:
        for name in _REQUIRED:
            if name not in self._h5:
                raise self._damaged(f"the group or dataset /{name} is missing (a pytest-donki recording has it)")
        try:
            self.metadata = decode_meta(self._h5[fmt.META].attrs)
            self.topics = [t.decode() for t in self._h5[fmt.TOPICS][:]]
            self.index = self._h5[fmt.INDEX][:]
            sizes = {name: self._h5[name].shape[0] for name in (fmt.PAYLOAD, fmt.KEYS, fmt.HEADERS)}
        except HDF5_ERRORS as exc:
            raise self._damaged(f"its index cannot be read ({exc})") from None
        self.complete = bool(self.metadata.get("complete", False))
        self._check_index(sizes)

    def _check_index(self, sizes: dict[str, int]) -> None:
        index = self.index
        if self.index.dtype != fmt.INDEX_DTYPE:
            raise self._damaged(f"/{fmt.INDEX} has dtype {index.dtype}, expected {fmt.INDEX_DTYPE}")
        if self.complete and int(self.metadata.get("messages", -1)) != len(index):
            raise self._damaged(f"/{fmt.INDEX} holds {len(index)} messages but /{fmt.META} says "
                                f"{self.metadata.get('messages')}")
        if not len(index):
            return
        if int(index["topic"].max()) >= len(self.topics):
            raise self._damaged(f"/{fmt.INDEX} refers to topic #{int(index['topic'].max())} of {len(self.topics)}")
        key_len = np.maximum(index["key_length"], 0).astype(np.uint64)
        ends = {
            fmt.PAYLOAD: int((index["payload_start"] + index["payload_length"]).max()),
            fmt.KEYS: int((index["key_start"] + key_len).max()),
            fmt.HEADERS: int((index["headers_start"] + index["headers_length"]).max()),
        }
        for name, end in ends.items():
            if end > sizes[name]:
                raise self._damaged(f"/{fmt.INDEX} points to byte {end} of /{name}, which holds only {sizes[name]}")

    # -- the whole file ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.index)

    @property
    def journal(self) -> Any:
        """The run journal (``harness.orchestra.journal.Journal``), ``None`` if not stored."""
        try:
            return read_journal(self._h5, str(self.path))
        except HDF5_ERRORS as exc:
            raise self._damaged(f"its journal cannot be read ({type(exc).__name__}: {exc})") from None

    @property
    def scenario(self) -> ScenarioText | None:
        """The scenario that produced the run, ``None`` if not stored."""
        try:
            return read_scenario(self._h5, str(self.path))
        except HDF5_ERRORS as exc:
            raise self._damaged(f"its scenario cannot be read ({type(exc).__name__}: {exc})") from None

    @property
    def h5(self) -> Any:
        """The open ``h5py.File`` (read only), e.g. for the NeXus views under ``/entry``."""
        return self._h5

    def partitions(self) -> list[tuple[str, int]]:
        """Every (topic, partition) in the recording, sorted."""
        return sorted((self.topics[t], p) for t, p in topic_partitions(self.index))

    def topic_ids(self, topics: Iterable[str]) -> list[int]:
        """Positions of ``topics``; a :class:`RecordingError` naming an unknown one."""
        ids = []
        for topic in topics:
            if topic not in self.topics:
                raise RecordingError(f"{self.path} has no topic {topic!r}; it has {sorted(self.topics)}")
            ids.append(self.topics.index(topic))
        return ids

    def stream_names(self) -> np.ndarray:
        """The ``donki.stream`` header of every message (``None`` for foreign messages)."""
        if self._streams is None:
            names = np.empty(len(self), dtype=object)
            for begin in range(0, len(self), BLOCK_ROWS):
                entries = self.index[begin:begin + BLOCK_ROWS]
                blobs = self._slices(fmt.HEADERS, entries["headers_start"], entries["headers_length"])
                for row, blob in enumerate(blobs, begin):
                    if blob:
                        names[row] = _stream_header(decode_headers(blob, f"{self.path} message #{row}"))
            self._streams = names
        return self._streams

    # -- selecting and reading --------------------------------------------------------

    def select(
        self,
        *,
        topics: Iterable[str] | None = None,
        partitions: Iterable[int] | None = None,
        streams: Iterable[str] | None = None,
        start: float | None = None,
        stop: float | None = None,
        triggers: int | Iterable[int] | None = None,
        clock: str = "timestamp",
    ) -> np.ndarray:
        """Row numbers (in recording order) of the messages that match every given filter.

        ``start``/``stop`` are seconds since the Unix epoch on ``clock`` (``"timestamp"``:
        the Kafka timestamp, ``"received"``: when the recorder got it), ``stop`` exclusive.
        """
        topic_ids = None if topics is None else self.topic_ids(topics)
        names = None if streams is None else self.stream_names()
        return select_rows(self.index, topic_ids=topic_ids, partitions=partitions, streams=streams, names=names,
                           start=start, stop=stop, triggers=triggers, clock=clock)

    def records(self, rows: Sequence[int] | np.ndarray | None = None, **filters: Any) -> Iterator[KafkaRecord]:
        """Messages of ``rows`` (default: those matching ``filters``, see :meth:`select`) in order."""
        if rows is None:
            rows = self.select(**filters)
        elif filters:
            raise TypeError("pass either rows or filters, not both")
        rows = np.asarray(rows, dtype=np.int64)
        for block in self._blocks(rows):
            yield from self._read_block(block)

    def partition_records(self, topic: str, partition: int) -> Iterator[KafkaRecord]:
        """One partition's messages in offset order."""
        rows = self.select(topics=[topic], partitions=[partition])
        order = np.argsort(self.index["offset"][rows], kind="stable")
        return self.records(rows[order])

    def decoded(self, **filters: Any) -> Iterator[tuple[KafkaRecord, Any]]:
        """``(record, content)`` pairs: each ESS payload decoded by ``ess-streaming-data-types``
        (a namedtuple, ``None`` for a payload of unknown schema); ``filters`` as :meth:`select`."""
        from harness.recording.decode import decode_payload

        for row, record in zip(self.select(**filters).tolist(), self.records(**filters), strict=True):
            yield record, decode_payload(record.value, f"{self.path} message #{row}")

    def record(self, row: int) -> KafkaRecord:
        """The message at ``row``."""
        return next(self.records([row]))

    def payload(self, row: int) -> bytes:
        entry = self.index[row]
        return self._read_bytes(fmt.PAYLOAD, int(entry["payload_start"]), int(entry["payload_length"]))

    def headers(self, row: int) -> tuple[tuple[str, bytes | None], ...]:
        entry = self.index[row]
        blob = self._read_bytes(fmt.HEADERS, int(entry["headers_start"]), int(entry["headers_length"]))
        return decode_headers(blob, f"{self.path} message #{row}")

    def _read_bytes(self, name: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            data: bytes = self._h5[name][start:start + length].tobytes()
            return data
        except HDF5_ERRORS as exc:
            raise self._damaged(f"bytes {start}..{start + length} of /{name} cannot be read ({exc})") from None

    def _blocks(self, rows: np.ndarray) -> Iterator[np.ndarray]:
        """Split rows into runs whose payloads lie close together (one read each)."""
        starts = self.index["payload_start"][rows].tolist()
        ends = (self.index["payload_start"][rows] + self.index["payload_length"][rows]).tolist()
        begin = 0
        while begin < len(rows):
            low, end = starts[begin], begin + 1
            while end < len(rows) and end - begin < BLOCK_ROWS and starts[end] >= low \
                    and ends[end] - low <= READ_BLOCK_BYTES:
                end += 1
            yield rows[begin:end]
            begin = end

    def _slices(self, name: str, starts: np.ndarray, lengths: np.ndarray) -> list[bytes]:
        """The byte strings at ``starts``/``lengths`` of heap ``name``, read in one go."""
        lengths = np.maximum(lengths.astype(np.int64), 0)
        starts = starts.astype(np.int64)
        nonempty = lengths > 0
        if not nonempty.any():
            return [b""] * len(starts)
        low = int(starts[nonempty].min())
        high = int((starts + lengths)[nonempty].max())
        if high - low > READ_BLOCK_BYTES + int(lengths.max()):
            return [self._read_bytes(name, int(s), int(n)) for s, n in zip(starts, lengths, strict=True)]
        data = self._read_bytes(name, low, high - low)
        return [data[s - low:s - low + n] if n else b"" for s, n in zip(starts.tolist(), lengths.tolist(), strict=True)]

    def _read_block(self, rows: np.ndarray) -> Iterator[KafkaRecord]:
        entries = self.index[rows]
        payloads = self._slices(fmt.PAYLOAD, entries["payload_start"], entries["payload_length"])
        keys = self._slices(fmt.KEYS, entries["key_start"], entries["key_length"])
        headers = self._slices(fmt.HEADERS, entries["headers_start"], entries["headers_length"])
        null_keys = (entries["key_length"] == fmt.NULL_KEY).tolist()
        columns = zip(rows.tolist(), entries["topic"].tolist(), entries["partition"].tolist(),
                      entries["offset"].tolist(), entries["timestamp"].tolist(), entries["timestamp_type"].tolist(),
                      entries["receive_time"].tolist(), payloads, keys, headers, null_keys, strict=True)
        for row, topic, partition, offset, ts, ts_type, received, payload, key, blob, null_key in columns:
            yield KafkaRecord(
                topic=self.topics[topic],
                partition=partition,
                offset=offset,
                timestamp_ms=ts,
                timestamp_type=ts_type,
                key=None if null_key else key,
                value=payload,
                headers=decode_headers(blob, f"{self.path} message #{row}") if blob else (),
                received=received,
            )

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_file:
            self._h5.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "complete" if self.complete else ("open by a writer" if self.writer_open else "incomplete")
        return f"<Recording {self.path} v{self.version}: {len(self)} messages, {state}>"
