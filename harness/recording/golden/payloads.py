"""Comparing two payloads: exactly, or "where deterministic" (the ESS content without times).

Two runs of a seeded scenario produce the same events, images and logs, but stamped
with the time they ran. ``normalized`` comparison decodes both payloads and compares
every field except those that carry run time or run identity.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from harness.errors import RecordingError
from harness.recording.decode import decode_payload

__all__ = ["PAYLOAD_MODES", "VOLATILE_FIELDS", "payload_difference"]

PAYLOAD_MODES = ("normalized", "exact", "schema", "ignore")

#: Fields that differ between two runs of the same seeded scenario.
VOLATILE_FIELDS: dict[str, frozenset[str]] = {
    "ev44": frozenset({"reference_time"}),
    "ev42": frozenset({"pulse_time"}),
    "f144": frozenset({"timestamp_unix_ns"}),
    "f142": frozenset({"timestamp_unix_ns"}),
    "ad00": frozenset({"timestamp_ns"}),
    "da00": frozenset({"timestamp_ns"}),
    "al00": frozenset({"timestamp_ns"}),
    "ep01": frozenset({"timestamp"}),
    "tdct": frozenset({"timestamps"}),
    "pl72": frozenset({"start_time", "stop_time", "broker"}),  # broker: the run's own Kafka address
    "6s4t": frozenset({"stop_time"}),
    "x5f2": frozenset(),
}


def _status_json(text: str) -> Any:
    """x5f2 status without its time entries (services put their clock in there)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply: compared as text
        return text
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if "time" not in k.lower()}
    return data


def _local(topic: Any) -> Any:
    """A topic name without a run's namespace (``<prefix>.<local>`` -> ``<local>``)."""
    return topic.split(".", 1)[1] if isinstance(topic, str) and "." in topic else topic


def _structure_topics(node: Any) -> Any:
    if isinstance(node, list):
        return [_structure_topics(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _structure_topics(value) for key, value in node.items()}
    if "module" in out and isinstance(out.get("config"), dict) and "topic" in out["config"]:
        out["config"] = {**out["config"], "topic": _local(out["config"]["topic"])}
    return out


def _nexus_structure(text: str) -> Any:
    """pl72 structure with its stream topics local: a run names the topics of its own namespace."""
    try:
        return _structure_topics(json.loads(text))
    except (ValueError, RecursionError):  # not JSON, or nested too deeply: compared as text
        return text


FIELD_NORMALISERS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("x5f2", "status_json"): _status_json,
    ("pl72", "nexus_structure"): _nexus_structure,
    ("pl72", "control_topic"): _local,
}


def _first_difference(a: Any, b: Any, path: str) -> str | None:
    """Where ``a`` (golden) and ``b`` (run) first differ: a readable path and both values, ``None`` if equal."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return f"{path}: shape golden {a.shape}, run {b.shape}"
        unequal = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
        if len(unequal):
            i = int(unequal[0])
            return f"{path}[{i}]: golden {a.reshape(-1)[i].item()!r}, run {b.reshape(-1)[i].item()!r}"
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: length golden {len(a)}, run {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:  # field order, as the schema defines it
            found = _first_difference(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if hasattr(a, "__dict__") and type(a) is type(b) and not isinstance(a, type):
        return _first_difference(vars(a), vars(b), path)
    return None if a == b else f"{path}: golden {a!r}, run {b!r}"


def _fields(schema: str, decoded: Any) -> dict[str, Any]:
    data = decoded._asdict() if hasattr(decoded, "_asdict") else dict(vars(decoded))
    volatile = VOLATILE_FIELDS.get(schema, frozenset())
    return {name: FIELD_NORMALISERS.get((schema, name), lambda v: v)(value)
            for name, value in data.items() if name not in volatile}


def _exact(golden: bytes, run: bytes) -> str | None:
    if golden == run:
        return None
    if len(golden) != len(run):
        return f"payload length golden {len(golden)}, run {len(run)}"
    at = next(i for i, (x, y) in enumerate(zip(golden, run, strict=True)) if x != y)
    return f"payload byte {at}: golden 0x{golden[at]:02x}, run 0x{run[at]:02x}"


def payload_difference(schema: str, golden: bytes, run: bytes, mode: str) -> str | None:
    """How ``run`` differs from ``golden`` under ``mode``, ``None`` if they match."""
    if mode in ("ignore", "schema"):
        return None
    if mode == "exact" or schema not in VOLATILE_FIELDS:
        return _exact(golden, run)
    if mode != "normalized":
        raise RecordingError(f"unknown payload comparison {mode!r}; expected one of {', '.join(PAYLOAD_MODES)}")
    try:
        a, b = decode_payload(golden), decode_payload(run)
    except RecordingError:  # a payload that does not decode can only be compared byte for byte
        return _exact(golden, run)
    return _first_difference(_fields(schema, a), _fields(schema, b), schema)
