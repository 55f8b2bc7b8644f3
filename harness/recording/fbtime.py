"""The data timestamps inside ESS FlatBuffers: read them, shift them in place.

A replay that should "look live" moves every data timestamp by the same amount, as
NeXus-Streamer does. Re-serialising would touch every byte; instead the 8-byte fields
are found through the FlatBuffers vtable and overwritten, so everything else in the
payload stays byte-identical. Fields absent from a buffer (a default value the builder
left out) are left alone.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from harness.records import schema_id

__all__ = ["TimeField", "TIME_FIELDS", "data_time_ns", "shift_times", "time_positions"]

MS = 1_000_000  # ns per ms
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U16 = struct.Struct("<H")
_I64 = struct.Struct("<q")


@dataclass(frozen=True)
class TimeField:
    """An int64/uint64 time field of a root table: its vtable slot and unit."""

    slot: int  # vtable offset, 4 + 2 * field index (as in the generated ``Offset(n)`` calls)
    vector: bool = False
    ns_per_unit: int = 1
    zero_is_unset: bool = False  # 0 means "not set" (run stop time), never shifted


#: Time fields per schema (from the generated code of ess-streaming-data-types).
TIME_FIELDS: dict[str, tuple[TimeField, ...]] = {
    "ev44": (TimeField(8, vector=True),),  # reference_time, ns
    "ev42": (TimeField(8),),  # pulse_time, ns
    "f144": (TimeField(6),),  # timestamp, ns
    "f142": (TimeField(10),),  # timestamp, ns
    "ad00": (TimeField(8),),  # timestamp, ns
    "da00": (TimeField(6),),  # timestamp, ns
    "al00": (TimeField(6),),  # timestamp, ns
    "ep01": (TimeField(4),),  # timestamp, ns
    "tdct": (TimeField(6, vector=True),),  # timestamps, ns
    "pl72": (TimeField(4, ns_per_unit=MS), TimeField(6, ns_per_unit=MS, zero_is_unset=True)),  # start/stop, ms
    "6s4t": (TimeField(4, ns_per_unit=MS, zero_is_unset=True),),  # stop_time, ms
}


def _field_offset(buf: bytes | bytearray, table: int, slot: int) -> int:
    """Absolute position of a field of the table at ``table``, 0 if absent."""
    vtable = table - _I32.unpack_from(buf, table)[0]
    if not 0 <= vtable < len(buf) - 4:
        raise ValueError("vtable outside the buffer")
    vtable_size = _U16.unpack_from(buf, vtable)[0]
    if slot >= vtable_size:
        return 0
    relative = _U16.unpack_from(buf, vtable + slot)[0]
    return table + relative if relative else 0


def time_positions(buf: bytes | bytearray, field: TimeField) -> list[int]:
    """Positions of the 8-byte values of ``field`` in ``buf`` (empty if absent)."""
    table = _U32.unpack_from(buf, 0)[0]
    pos = _field_offset(buf, table, field.slot)
    if not pos:
        return []
    if not field.vector:
        positions = [pos]
    else:
        vector = pos + _U32.unpack_from(buf, pos)[0]
        count = _U32.unpack_from(buf, vector)[0]
        positions = [vector + 4 + 8 * i for i in range(count)]
    if positions and (positions[0] < 0 or positions[-1] + 8 > len(buf)):
        raise ValueError("time field outside the buffer")
    return positions


def data_time_ns(payload: bytes) -> int | None:
    """The first data timestamp of an ESS payload in ns since the epoch, ``None`` if it has none."""
    fields = TIME_FIELDS.get(schema_id(payload))
    if not fields:
        return None
    try:
        positions = time_positions(payload, fields[0])
    except (struct.error, ValueError):
        return None
    if not positions:
        return None
    (stamp,) = _I64.unpack_from(payload, positions[0])
    ns: int = stamp * fields[0].ns_per_unit
    return ns


def shift_times(payload: bytes, delta_ns: int) -> bytes:
    """``payload`` with every data timestamp moved by ``delta_ns`` (unchanged if it has none).

    Raises ``ValueError`` for a payload that names a known schema but is malformed.
    """
    fields = TIME_FIELDS.get(schema_id(payload))
    if not fields or not delta_ns:
        return payload
    out = bytearray(payload)
    try:
        for field in fields:
            delta = delta_ns // field.ns_per_unit
            for pos in time_positions(out, field):
                value = _I64.unpack_from(out, pos)[0]
                if value or not field.zero_is_unset:
                    _I64.pack_into(out, pos, value + delta)
    except struct.error as exc:
        raise ValueError(f"malformed {schema_id(payload)} payload: {exc}") from None
    return bytes(out)
