"""Selecting messages of a recording by topic, partition, stream, time or trigger."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from harness.errors import RecordingError

__all__ = ["CLOCKS", "select_rows", "times_s"]

#: Time bases a recording can be selected and replayed by.
CLOCKS = ("timestamp", "received")


def times_s(index: np.ndarray, clock: str) -> np.ndarray:
    """Each message's time in seconds since the Unix epoch on ``clock``."""
    if clock == "timestamp":
        return index["timestamp"].astype(np.float64) / 1000.0
    if clock == "received":
        return index["receive_time"].astype(np.float64)
    raise RecordingError(f"unknown clock {clock!r}; expected one of {', '.join(CLOCKS)}")


def _as_ints(values: int | Iterable[int], what: str) -> np.ndarray:
    if isinstance(values, (int, np.integer)):
        return np.asarray([int(values)], dtype=np.int64)
    try:
        return np.asarray(list(values), dtype=np.int64)
    except (TypeError, ValueError):
        raise RecordingError(f"{what} must be an integer or a list of integers, got {values!r}") from None


def select_rows(
    index: np.ndarray,
    *,
    topic_ids: Iterable[int] | None = None,
    partitions: Iterable[int] | None = None,
    streams: Iterable[str] | None = None,
    names: np.ndarray | None = None,
    start: float | None = None,
    stop: float | None = None,
    triggers: int | Iterable[int] | None = None,
    clock: str = "timestamp",
) -> np.ndarray:
    """Row numbers (ascending) of ``index`` matching every filter that is not ``None``."""
    mask = np.ones(len(index), dtype=bool)
    if topic_ids is not None:
        mask &= np.isin(index["topic"], _as_ints(topic_ids, "topics"))
    if partitions is not None:
        mask &= np.isin(index["partition"], _as_ints(partitions, "partitions"))
    if streams is not None:
        if names is None:
            raise ValueError("a streams filter needs the stream name of every row (names=...)")
        wanted = set(streams)
        mask &= np.fromiter((name in wanted for name in names), dtype=np.bool_, count=len(index))
    if start is not None or stop is not None:
        times = times_s(index, clock)
        if start is not None:
            mask &= times >= start
        if stop is not None:
            mask &= times < stop
    if triggers is not None:
        mask &= np.isin(index["trigger"], _as_ints(triggers, "triggers"))
    return np.flatnonzero(mask)
