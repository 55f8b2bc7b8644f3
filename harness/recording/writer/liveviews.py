"""NeXus views built while a recording is written: each ev44/f144 payload decoded as it arrives.

The writer hands every appended payload whose schema has a view to :meth:`ViewBuilder.add`;
the payload is decoded (zero-copy numpy views of the FlatBuffer) and appended to the
source's resizable view datasets, so closing the recording only finalises counts and
attributes instead of decoding the whole raw log (1 GB of ev44: seconds at close).

Decoding costs per message (tens of microseconds in the Python FlatBuffers reader), which
for a flood of small f144/ev44 messages is far more than recording them. So payloads are
queued and decoded in order by :meth:`ViewBuilder.catch_up`, which takes at most
``CATCH_UP_SHARE`` of the time the recorder spent since its last call (so a flood is
recorded at two thirds of its speed at worst, and the views get all the time the recorder
waits for data); :meth:`ViewBuilder.drain` decodes the rest at close. The queue is
bounded: beyond ``MAX_PENDING_*`` the recorder waits for the views.

A new source needs new groups and datasets, which an HDF5 SWMR writer must not create:
``reshape`` runs the creation with the file re-opened normally (see
:meth:`harness.recording.writer.writer.RecordingWriter`), after which every view re-binds
its datasets. A crash leaves the views as far as their last flush; the raw log is what
recovery reads, and it rebuilds the views.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from harness.errors import RecordingError
from harness.recording import format as fmt
from harness.recording.decode import decode_payload, f144_value_dtype
from harness.recording.meta import iso_time
from harness.recording.writer.viewgroups import DEFAULT_CUE_INTERVAL, EventData, Log, link_name

__all__ = ["ViewBuilder", "VIEW_SCHEMAS", "make_entry"]

#: Payload schemas that have a NeXus view.
VIEW_SCHEMAS = (b"ev44", b"f144")
#: Views may fall this far behind the raw log before the recorder waits for them.
MAX_PENDING_BYTES = 256 << 20
MAX_PENDING_MESSAGES = 1 << 20
#: Decoding time allowed per second the recorder spent otherwise, while views are behind.
CATCH_UP_SHARE = 0.5
#: Messages decoded between two looks at the clock.
DRAIN_STEP = 16

View = EventData | Log
#: Runs its argument with the file open for creating objects; the argument gets that file.
Reshape = Callable[[Callable[[Any], None]], None]


def make_entry(h5: Any) -> Any:
    """A new, empty ``/entry/instrument`` (an existing ``/entry`` is replaced)."""
    if fmt.ENTRY in h5:
        del h5[fmt.ENTRY]
    entry = h5.create_group(fmt.ENTRY)
    entry.attrs["NX_class"] = "NXentry"
    instrument = entry.create_group("instrument")
    instrument.attrs["NX_class"] = "NXinstrument"
    return instrument


class ViewBuilder:
    """The views of one recording, filled payload by payload.

    Parameters
    ----------
    h5
        The open recording, holding an empty ``/entry/instrument`` (see :func:`make_entry`).
    reshape
        How to create new groups: ``reshape(create)`` calls ``create(h5)`` with the file
        open for that (default: on ``h5`` itself, for a file not in SWMR mode).
    """

    def __init__(self, h5: Any, reshape: Reshape | None = None, cue_interval: int = DEFAULT_CUE_INTERVAL) -> None:
        self._h5 = h5
        self._reshape: Reshape = reshape if reshape is not None else (lambda create: create(self._h5))
        self._cue_interval = cue_interval
        self._views: dict[tuple[str, str, str], View | None] = {}
        self._names: set[str] = set()
        self._pending: deque[tuple[str, str, bytes]] = deque()
        self._pending_bytes = 0
        self._caught_up = time.monotonic()
        self.skipped = 0

    @property
    def pending(self) -> int:
        """Messages queued and not yet in the views."""
        return len(self._pending)

    def add(self, schemas: list[str], topics: list[str], payloads: list[bytes]) -> None:
        """Queue ``payloads`` (each of a schema in :data:`VIEW_SCHEMAS`) for their views, in order."""
        self._pending.extend(zip(schemas, topics, payloads, strict=True))
        self._pending_bytes += sum(map(len, payloads))

    def catch_up(self) -> None:
        """Decode queued payloads for a share of the time the caller worked since the last call (and past
        the queue's bounds)."""
        started = time.monotonic()
        self.drain(CATCH_UP_SHARE * (started - self._caught_up))
        self._caught_up = time.monotonic()

    def drain(self, budget_s: float | None = None) -> None:
        """Decode queued payloads in order: all of them, or until ``budget_s`` is spent and the queue
        is within its bounds (at least one step either way)."""
        deadline = None if budget_s is None else time.monotonic() + budget_s
        pending = self._pending
        while pending:
            step = [pending.popleft() for _ in range(min(DRAIN_STEP, len(pending)))]
            self._pending_bytes -= sum(len(payload) for _, _, payload in step)
            self._decode(step)
            if (deadline is not None and time.monotonic() >= deadline and self._pending_bytes <= MAX_PENDING_BYTES
                    and len(pending) <= MAX_PENDING_MESSAGES):
                return

    def _decode(self, items: list[tuple[str, str, bytes]]) -> None:
        """Decode payloads and append them to their views (creating the views of new sources)."""
        decoded: list[tuple[tuple[str, str, str], Any]] = []
        new: dict[tuple[str, str, str], tuple[bytes, Any]] = {}
        for schema, topic, payload in items:
            try:  # a view is a convenience: a bad payload stays in the raw log and is counted here
                data = decode_payload(payload, f"a message on {topic}")
            except RecordingError:
                self.skipped += 1
                continue
            key = (schema, topic, data.source_name)
            if key not in self._views and key not in new:
                new[key] = (payload, data)
            decoded.append((key, data))
        if new:
            self._reshape(lambda h5: self._create(h5, new))
        for key, data in decoded:
            view = self._views[key]
            if view is None:
                self.skipped += 1
            else:
                view.add(data)

    def _create(self, h5: Any, new: Mapping[tuple[str, str, str], tuple[bytes, Any]]) -> None:
        self._rebind(h5)
        instrument = h5[fmt.ENTRY]["instrument"]
        for key, (payload, data) in new.items():
            self._views[key] = self._new_view(instrument, key, payload, data)

    def _new_view(self, instrument: Any, key: tuple[str, str, str], payload: bytes, data: Any) -> View | None:
        """The view of a new source, ``None`` if it cannot have one."""
        schema, topic, source = key
        name = link_name(source or topic)
        if name in self._names:
            name = link_name(f"{name}_{topic}")
        suffix, base = 2, name
        while name in self._names:
            name, suffix = f"{base}_{suffix}", suffix + 1
        self._names.add(name)
        if schema == "ev44":
            return EventData(instrument, name, topic, source, self._cue_interval)
        value = np.asarray(data.value)
        if value.ndim > 1:
            return None  # f144 allows 0-D and 1-D values only
        return Log(instrument, name, topic, source, f144_value_dtype(payload), None if value.ndim == 0 else
                   value.shape[0])

    def _made(self) -> list[View]:
        return [view for view in self._views.values() if view is not None]

    def _rebind(self, h5: Any) -> None:
        """Continue in ``h5``: the same file, re-opened after a :meth:`flush` (or the same handle)."""
        if h5 is self._h5:
            return
        self._h5 = h5
        for view in self._made():
            view.rebind(h5)

    def flush(self) -> None:
        """Write what the views buffer and make their new sizes visible to SWMR readers (the queue waits)."""
        for view in self._made():
            view.flush()

    def finish(self, h5: Any, metadata: Mapping[str, Any], units: Mapping[str, str],
               detectors: Mapping[str, np.ndarray]) -> dict[str, int]:
        """Write the rest and the end-of-run attributes into ``h5`` (the same handle, or the file
        re-opened after a :meth:`flush` to close it).

        Returns the number of messages that went into each view group.
        """
        import h5py

        if self._pending:
            raise RecordingError(f"{len(self._pending)} messages are not in the views yet; drain() before finish()")
        self._rebind(h5)
        entry = h5[fmt.ENTRY]
        text = h5py.string_dtype()
        started, stopped = metadata.get("started"), metadata.get("stopped")
        if started is not None:
            entry.create_dataset("start_time", data=iso_time(float(started)), dtype=text)
        if stopped is not None:
            entry.create_dataset("end_time", data=iso_time(float(stopped)), dtype=text)
        entry.create_dataset("title", data=str(metadata.get("title", "pytest-donki recording")), dtype=text)
        made = self._made()
        for view in made:
            view.finish(dict(units), dict(detectors))
        entry.attrs["skipped_messages"] = self.skipped
        return {view.path: int(view.messages) for view in made}
