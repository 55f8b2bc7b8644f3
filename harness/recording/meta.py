"""Run metadata stored as attributes of ``/meta``: versions, host, times, user values.

Scalars (str, int, float, bool) are stored as attributes of their own name; anything
else (lists, dicts) as JSON text under ``<name>_json``, so ``h5dump`` shows every value
and the reader gives back the same Python values.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import socket
import sys
from collections.abc import Mapping
from importlib import metadata as _metadata
from typing import Any

__all__ = ["software_versions", "host_info", "iso_time", "encode_meta", "decode_meta", "JSON_SUFFIX"]

JSON_SUFFIX = "_json"


def iso_time(epoch_s: float) -> str:
    """``epoch_s`` as an ISO 8601 UTC string (the NeXus convention)."""
    return _dt.datetime.fromtimestamp(epoch_s, _dt.UTC).isoformat()


def _version(distribution: str) -> str:
    try:
        return _metadata.version(distribution)
    except _metadata.PackageNotFoundError:
        return ""


def software_versions() -> dict[str, str]:
    """Versions of everything that shaped the bytes in a recording."""
    import h5py

    versions = {
        "pytest_donki": _version("pytest-donki"),
        "python": platform.python_version(),
        "h5py": h5py.version.version,
        "hdf5": h5py.version.hdf5_version,
        "numpy": _version("numpy"),
        "confluent_kafka": _version("confluent-kafka"),
        "streaming_data_types": _version("ess-streaming-data-types"),
    }
    try:
        import confluent_kafka

        versions["librdkafka"] = confluent_kafka.libversion()[0]
    except ImportError:  # pragma: no cover - a dependency, but the format does not need it
        versions["librdkafka"] = ""
    return versions


def host_info() -> dict[str, str]:
    return {"host": socket.gethostname(), "platform": sys.platform}


def encode_meta(values: Mapping[str, Any]) -> dict[str, Any]:
    """Attribute name -> value, with non-scalars as JSON under ``<name>_json``."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, (str, bool, int, float)):
            out[key] = value
        else:
            out[key + JSON_SUFFIX] = json.dumps(value, default=str, sort_keys=True)
    return out


def decode_meta(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`encode_meta` (numpy scalars become Python values)."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, bytes):
            value = value.decode()
        elif hasattr(value, "item"):
            value = value.item()
        if key.endswith(JSON_SUFFIX) and isinstance(value, str):
            out[key[: -len(JSON_SUFFIX)]] = json.loads(value)
        else:
            out[key] = value
    return out
