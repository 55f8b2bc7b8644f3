"""The source and data time of an ESS payload, read from its FlatBuffer table without decoding arrays.

The timing checks need, per message, which source it belongs to and the time its data
carry; run control (pl72, 6s4t) carries the run's start and stop in ms. Reading the
generated accessors keeps the cost per message to a few field look-ups, so a recording
of gigabytes is checked in memory proportional to its message count.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from harness.records import schema_id

__all__ = ["DataTime", "data_time_of", "RUN_CONTROL_SCHEMAS", "NS_PER_MS"]

NS_PER_MS = 1_000_000
RUN_CONTROL_SCHEMAS = ("pl72", "6s4t")


@dataclass(frozen=True)
class DataTime:
    """Source name and data time (ns since the epoch) of one message.

    For run control, ``source`` is the job id and ``time_ns`` the start (pl72) or stop
    (6s4t) time; ``stop_ns`` is a pl72's stop time (``None``: open-ended).
    """

    schema: str
    source: str
    time_ns: int
    stop_ns: int | None = None


def _text(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", "replace")


def _ev44(payload: bytes) -> DataTime | None:
    from streaming_data_types.fbschemas.eventdata_ev44.Event44Message import Event44Message

    table = Event44Message.GetRootAs(payload, 0)
    if not table.ReferenceTimeLength():
        return None
    return DataTime("ev44", _text(table.SourceName()), int(table.ReferenceTime(0)))


def _f144(payload: bytes) -> DataTime:
    from streaming_data_types.fbschemas.logdata_f144.f144_LogData import f144_LogData

    table = f144_LogData.GetRootAsf144_LogData(payload, 0)
    return DataTime("f144", _text(table.SourceName()), int(table.Timestamp()))


def _ad00(payload: bytes) -> DataTime:
    from streaming_data_types.fbschemas.area_detector_ad00.ad00_ADArray import ad00_ADArray

    table = ad00_ADArray.GetRootAs(payload, 0)
    return DataTime("ad00", _text(table.SourceName()), int(table.Timestamp()))


def _da00(payload: bytes) -> DataTime:
    from streaming_data_types.fbschemas.dataarray_da00.da00_DataArray import da00_DataArray

    table = da00_DataArray.GetRootAs(payload, 0)
    return DataTime("da00", _text(table.SourceName()), int(table.Timestamp()))


def _pl72(payload: bytes) -> DataTime:
    from streaming_data_types.fbschemas.run_start_pl72.RunStart import RunStart

    table = RunStart.GetRootAsRunStart(payload, 0)
    stop = int(table.StopTime())
    return DataTime("pl72", _text(table.JobId()), int(table.StartTime()) * NS_PER_MS,
                    stop * NS_PER_MS if stop else None)


def _6s4t(payload: bytes) -> DataTime:
    from streaming_data_types.fbschemas.run_stop_6s4t.RunStop import RunStop

    table = RunStop.GetRootAsRunStop(payload, 0)
    return DataTime("6s4t", _text(table.JobId()), int(table.StopTime()) * NS_PER_MS)


_READERS: dict[str, Callable[[bytes], DataTime | None]] = {
    "ev44": _ev44, "f144": _f144, "ad00": _ad00, "da00": _da00, "pl72": _pl72, "6s4t": _6s4t,
}


def data_time_of(payload: bytes) -> DataTime | None:
    """Source and time of ``payload``; ``None`` for a schema without a data time or a malformed buffer."""
    reader = _READERS.get(schema_id(payload))
    if reader is None:
        return None
    try:
        return reader(bytes(payload))
    except (IndexError, ValueError, TypeError, struct.error):  # a truncated buffer: the integrity check reports it
        return None
