"""NeXus views of a recording, laid out as the ESS file writer (kafka-to-nexus) writes them.

A recording normally gets its views while it is written (see
:mod:`harness.recording.writer.liveviews`); :func:`write_views` (re)builds them from the
raw log of a finished file, with the same code, so both give the same layout
(see :mod:`harness.recording.writer.viewgroups`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from harness.recording.writer.liveviews import VIEW_SCHEMAS, ViewBuilder, make_entry
from harness.recording.writer.viewgroups import DEFAULT_CUE_INTERVAL, EPOCH

__all__ = ["write_views", "finish_views", "DEFAULT_CUE_INTERVAL", "EPOCH"]

#: Raw-log rows decoded per step of a rebuild (bounds the payloads held at once).
REBUILD_ROWS = 256


def write_views(h5: Any, path: str, *, units: Mapping[str, str] | None = None,
                cue_interval: int = DEFAULT_CUE_INTERVAL) -> dict[str, int]:
    """(Re)write ``/entry`` from the raw log of an open, writable recording (not in SWMR mode).

    ``units`` maps an f144 source name to the units of its value (over those the stored
    scenario gives, see :mod:`harness.recording.viewhints`), which also gives the detector
    groups their ``detector_number``. Returns the number of messages that went into each
    view group.
    """
    from harness.recording.reader.reader import Recording
    from harness.recording.viewhints import view_hints

    recording = Recording(path, h5=h5)
    stored = recording.scenario
    scenario_units, detectors = view_hints(stored.data() if stored is not None else None)
    schemas = recording.index["schema"]
    rows = np.flatnonzero(np.isin(schemas, VIEW_SCHEMAS))
    make_entry(h5)
    builder = ViewBuilder(h5, cue_interval=cue_interval)
    for first in range(0, len(rows), REBUILD_ROWS):
        records = list(recording.records(rows[first:first + REBUILD_ROWS]))
        builder.add([r.schema for r in records], [r.topic for r in records], [r.value for r in records])
        builder.drain()
    return builder.finish(h5, recording.metadata, {**scenario_units, **(units or {})}, detectors)


def finish_views(h5: Any, path: str, built: ViewBuilder | None, *, wanted: bool,
                 units: Mapping[str, str] | None = None) -> None:
    """The views of a recording being closed (``h5`` re-opened normally, its scenario stored).

    Views ``built`` while recording are finalised; without them, they are built from the
    raw log now; if they are not ``wanted``, what was built is removed.
    """
    from harness.recording import format as fmt
    from harness.recording.meta import decode_meta
    from harness.recording.sidecar import read_scenario
    from harness.recording.viewhints import view_hints

    if not wanted:
        if built is not None and fmt.ENTRY in h5:
            del h5[fmt.ENTRY]
        return
    if built is None:
        write_views(h5, path, units=units)
        return
    stored = read_scenario(h5, path)
    scenario_units, detectors = view_hints(stored.data() if stored is not None else None)
    built.finish(h5, decode_meta(h5[fmt.META].attrs), {**scenario_units, **(units or {})}, detectors)
