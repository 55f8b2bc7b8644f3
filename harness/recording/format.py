"""The recording file layout (format version 1): names, dtypes and the version check.

One place defines every group, dataset and attribute name, so the writer, the reader
and ``docs/recording-format.md`` cannot drift apart. Importing this module is cheap
(numpy only); h5py is imported by the writer and reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from harness.errors import RecordingError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ATTR_FORMAT",
    "ATTR_VERSION",
    "RAW",
    "INDEX",
    "PAYLOAD",
    "KEYS",
    "HEADERS",
    "TOPICS",
    "META",
    "JOURNAL",
    "JOURNAL_EVENTS",
    "SCENARIO",
    "SCENARIO_TEXT",
    "ENTRY",
    "INDEX_DTYPE",
    "NO_TRIGGER",
    "NULL_KEY",
    "MAX_TOPIC_BYTES",
    "PAYLOAD_CHUNK",
    "SMALL_HEAP_CHUNK",
    "INDEX_CHUNK",
    "check_version",
]

FORMAT_NAME = "pytest-donki recording"
#: Bumped on any change a version-1 reader could misread; readers refuse newer files.
FORMAT_VERSION = 1

# root attributes
ATTR_FORMAT = "donki_format"
ATTR_VERSION = "donki_format_version"

# the raw log: every message exactly as the broker held it
RAW = "raw"
INDEX = "raw/index"  # one compound row per message, in the order received
PAYLOAD = "raw/payload"  # all payloads back to back (uint8)
KEYS = "raw/keys"  # all keys back to back (uint8)
HEADERS = "raw/headers"  # all encoded header lists back to back (uint8)
TOPICS = "raw/topics"  # topic names; index rows refer to them by position

META = "meta"  # run metadata, all attributes
JOURNAL = "journal"
JOURNAL_EVENTS = "journal/events"  # one JSON object per journal event
SCENARIO = "scenario"
SCENARIO_TEXT = "scenario/text"
ENTRY = "entry"  # NeXus views (NXentry), written when the recording is closed

NO_TRIGGER = -1  # trigger column of a message without donki headers
NULL_KEY = -1  # key_length of a message whose key is null (not empty)
MAX_TOPIC_BYTES = 249  # Kafka's limit on topic name length

# Payload chunks are written whole with H5Dwrite_chunk: 1 MiB balances write speed
# (measured ~3x a plain slice write) against the padding of the last, partial chunk.
PAYLOAD_CHUNK = 1 << 20
SMALL_HEAP_CHUNK = 1 << 16
INDEX_CHUNK = 4096

INDEX_DTYPE = np.dtype(
    [
        ("payload_start", "<u8"),
        ("payload_length", "<u8"),
        ("key_start", "<u8"),
        ("key_length", "<i8"),  # NULL_KEY for a null key
        ("headers_start", "<u8"),
        ("headers_length", "<u4"),
        ("topic", "<u2"),  # position in raw/topics
        ("partition", "<i4"),
        ("offset", "<i8"),
        ("timestamp", "<i8"),  # Kafka timestamp, ms since the Unix epoch
        ("timestamp_type", "<i1"),  # 0 not available, 1 create time, 2 log append time
        ("receive_time", "<f8"),  # recorder's wall clock, s since the Unix epoch
        ("schema", "S4"),  # FlatBuffers file identifier, b"" if none
        ("trigger", "<i8"),  # donki.trigger header, NO_TRIGGER if absent (derived, for selection)
    ]
)


def check_version(attrs: Mapping[str, Any], path: str) -> int:
    """The format version of a file's root attributes; a :class:`RecordingError` if unusable."""
    if ATTR_VERSION not in attrs:
        raise RecordingError(
            f"{path} is an HDF5 file but not a pytest-donki recording: the root attribute "
            f"{ATTR_VERSION!r} is missing (expected a file written by `donki record` or the Recorder)"
        )
    raw = attrs[ATTR_VERSION]
    try:
        version = int(raw)
        if version != raw:
            raise ValueError(raw)
    except (TypeError, ValueError):
        raise RecordingError(
            f"{path}: format version {raw!r} is not an integer; the file is damaged or was not written by pytest-donki"
        ) from None
    if version > FORMAT_VERSION:
        raise RecordingError(
            f"{path} has recording format version {version}, newer than the version {FORMAT_VERSION} this "
            f"pytest-donki reads; upgrade pytest-donki to read it"
        )
    if version < 1:
        raise RecordingError(f"{path}: unknown recording format version {version}; expected 1..{FORMAT_VERSION}")
    return version
