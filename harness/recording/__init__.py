"""Recording Kafka streams to versioned HDF5, reading them back, replaying them, golden files.

Importing this package is cheap (the pytest plugin imports it at startup): the names
below are loaded from their modules, and h5py or confluent-kafka with them, on first use.

- :class:`RecordingWriter` / :class:`Recorder`: Kafka -> HDF5 (``harness.recording.writer``,
  ``harness.recording.recorder``)
- :class:`Recording` / :func:`open_recording`: read, select, decode (``harness.recording.reader``)
- :class:`Replayer`: HDF5 -> Kafka, timed (``harness.recording.replayer``)
- :class:`RecordMode`, :class:`GoldenStore`, :func:`compare_recordings`: golden recordings
- :class:`CapturedAction`: a player action that replays a recording per trigger
"""

from __future__ import annotations

import importlib
from typing import Any

from harness.recording import captured_kind as _captured_kind  # noqa: F401 - registers the kind

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
    "compare_recordings",
    "open_recording",
    "recover",
    "summarize",
    "write_views",
]

_HOMES = {
    "FORMAT_VERSION": "format",
    "CapturedAction": "captured",
    "Comparison": "compare",
    "compare_recordings": "compare",
    "GoldenStore": "golden",
    "RecordMode": "modes",
    "Recorder": "recorder",
    "RecorderStats": "recorder",
    "StartPosition": "positions",
    "Recording": "reader",
    "open_recording": "reader",
    "RecordingWriter": "writer",
    "recover": "copying",
    "ReplayReport": "replayer",
    "Replayer": "replayer",
    "Summary": "summary",
    "summarize": "summary",
    "write_views": "nexus",
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
