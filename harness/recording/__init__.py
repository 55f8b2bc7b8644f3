"""Recording Kafka streams to versioned HDF5, reading them back, replaying them, golden files.

The folder shows the four jobs: ``writer/`` (Kafka -> HDF5: the recorder, its write-behind
pipeline, the NeXus views, copies), ``reader/`` (open, select, summarise), ``replay/``
(HDF5 -> Kafka, timed; the ``captured`` stream kind) and ``golden/`` (record modes, the
store of golden recordings, comparison). What all of them share stays here: the file
layout (``format``), metadata, the journal sidecar, header and FlatBuffer-time codecs.

Importing this package is cheap (the pytest plugin imports it at startup): the names
below are loaded from their modules, and h5py or confluent-kafka with them, on first use.

- :class:`RecordingWriter` / :class:`Recorder`: Kafka -> HDF5 (``harness.recording.writer.writer``,
  ``harness.recording.writer.recorder``)
- :class:`Recording` / :func:`open_recording`: read, select, decode (``harness.recording.reader.reader``)
- :class:`Replayer`: HDF5 -> Kafka, timed (``harness.recording.replay.replayer``)
- :class:`RecordMode`, :class:`GoldenStore`, :func:`compare_recordings`, :class:`TriggerWindow`:
  golden recordings (the built-ins' own ship in :mod:`harness.scenarios.goldens`)
- :class:`CapturedAction`: a player action that replays a recording per trigger
"""

from __future__ import annotations

import importlib
from typing import Any

from harness.recording.replay import captured_kind as _captured_kind  # noqa: F401 - registers the kind

__all__ = [
    "FORMAT_VERSION",
    "CapturedAction",
    "Comparison",
    "GoldenStore",
    "RecordMode",
    "Recorder",
    "RecorderStats",
    "Recording",
    "RecordingWriter",
    "ReplayReport",
    "Replayer",
    "StartPosition",
    "Summary",
    "TriggerWindow",
    "compare_recordings",
    "open_recording",
    "recover",
    "summarize",
    "write_views",
]

_HOMES = {
    "FORMAT_VERSION": "format",
    "CapturedAction": "replay.captured",
    "Comparison": "golden.compare",
    "TriggerWindow": "golden.compare",
    "compare_recordings": "golden.compare",
    "GoldenStore": "golden.store",
    "RecordMode": "golden.modes",
    "Recorder": "writer.recorder",
    "RecorderStats": "writer.recorder",
    "StartPosition": "writer.positions",
    "Recording": "reader.reader",
    "open_recording": "reader.reader",
    "RecordingWriter": "writer.writer",
    "recover": "writer.copying",
    "ReplayReport": "replay.replayer",
    "Replayer": "replay.replayer",
    "Summary": "reader.summary",
    "summarize": "reader.summary",
    "write_views": "writer.nexus",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'harness.recording' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"harness.recording.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
