"""Message templates: serialise a message's layout once, then patch only what changes.

A stream of frames of fixed shape and dtype has, message after message, the same
FlatBuffer layout: only the timestamp, the frame id and the array bytes differ. The
Python FlatBuffers builder spends ~1-2 ms laying out a da00 message with its axes,
which caps a 1 kHz stream far below 1 kHz on a small machine. A template is the first
message as the library serialises it, plus the positions of the fields that change
(found with the generated schema accessors); later messages are that template copied
with those fields overwritten. The tests assert, for many shapes, dtypes and values,
that the result equals what ``serialise_da00``/``serialise_ad00`` produce.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from streaming_data_types.dataarray_da00 import Variable

__all__ = ["PatchTemplate", "da00_template", "ad00_template"]

# vtable offsets of the generated accessors (see streaming_data_types.fbschemas)
_DA00_TIMESTAMP, _DA00_DATA = 6, 8
_DA00_VARIABLE_DATA = 18
_AD00_ID, _AD00_TIMESTAMP, _AD00_DATA = 6, 8, 14


@dataclass(frozen=True)
class PatchTemplate:
    """A serialised message and where its timestamp, id and array bytes sit."""

    payload: bytes
    timestamp_at: int
    data_at: int
    data_bytes: int
    id_at: int | None = None

    def render(self, timestamp_ns: int, data: np.ndarray, unique_id: int | None = None) -> bytes:
        """The template with a new timestamp, array (same shape and dtype) and id."""
        raw = np.ascontiguousarray(data).astype(data.dtype.newbyteorder("<"), copy=False)
        if raw.nbytes != self.data_bytes:
            raise ValueError(f"array of {raw.nbytes} bytes does not fit a template of {self.data_bytes}")
        buffer = bytearray(self.payload)
        struct.pack_into("<q", buffer, self.timestamp_at, int(timestamp_ns))
        if self.id_at is not None and unique_id is not None:
            struct.pack_into("<i", buffer, self.id_at, int(unique_id))
        buffer[self.data_at:self.data_at + self.data_bytes] = raw.tobytes()
        return bytes(buffer)


def _field_at(table: Any, vtable_offset: int) -> int:  # any generated FlatBuffers table
    offset = table._tab.Offset(vtable_offset)
    if offset == 0:
        raise ValueError(f"field at vtable offset {vtable_offset} is absent from the template")
    position: int = table._tab.Pos + offset
    return position


def _vector_at(table: Any, vtable_offset: int) -> tuple[int, int]:
    offset = table._tab.Offset(vtable_offset)
    return table._tab.Vector(offset), table._tab.VectorLen(offset)


def da00_template(source_name: str, variables: list[Variable], timestamp_ns: int = 0) -> PatchTemplate:
    """A template of ``serialise_da00(source_name, timestamp_ns, variables)``; the first
    variable's data is the part that changes."""
    from streaming_data_types.dataarray_da00 import serialise_da00
    from streaming_data_types.fbschemas.dataarray_da00.da00_DataArray import da00_DataArray

    payload = serialise_da00(source_name, timestamp_ns, variables)
    root = da00_DataArray.GetRootAs(payload, 0)
    data_at, data_bytes = _vector_at(root.Data(0), _DA00_VARIABLE_DATA)
    return PatchTemplate(payload, _field_at(root, _DA00_TIMESTAMP), data_at, data_bytes)


def ad00_template(source_name: str, data: np.ndarray, unique_id: int = 0, timestamp_ns: int = 0) -> PatchTemplate:
    """A template of ``serialise_ad00(source_name, unique_id, timestamp_ns, data)``."""
    from streaming_data_types import serialise_ad00
    from streaming_data_types.fbschemas.area_detector_ad00.ad00_ADArray import ad00_ADArray

    payload = serialise_ad00(source_name, unique_id, timestamp_ns, data)
    root = ad00_ADArray.GetRootAs(payload, 0)
    data_at, data_bytes = _vector_at(root, _AD00_DATA)
    return PatchTemplate(payload, _field_at(root, _AD00_TIMESTAMP), data_at, data_bytes, _field_at(root, _AD00_ID))
