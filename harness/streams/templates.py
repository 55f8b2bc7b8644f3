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

__all__ = ["PatchTemplate", "Ev44Template", "da00_template", "ad00_template", "ev44_template"]

# vtable offsets of the generated accessors (see streaming_data_types.fbschemas)
_DA00_TIMESTAMP, _DA00_DATA = 6, 8
_DA00_VARIABLE_DATA = 18
_AD00_ID, _AD00_TIMESTAMP, _AD00_DATA = 6, 8, 14
_EV44_MESSAGE_ID, _EV44_REFERENCE_TIME, _EV44_REFERENCE_TIME_INDEX = 6, 8, 10
_EV44_TIME_OF_FLIGHT, _EV44_PIXEL_ID = 12, 14


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


@dataclass(frozen=True)
class Ev44Template:
    """An ev44 message of ``pulses`` pulses and ``events`` events and where its values sit.

    An event formation unit sends messages of the same event count over and over (full
    ones, then the rest of the pulse); laying each out with the FlatBuffers builder costs
    ~200 us of Python a message, patching a copy of the template a few microseconds.
    """

    payload: bytes
    pulses: int
    events: int
    message_id_at: int
    reference_time_at: int
    reference_time_index_at: int
    time_of_flight_at: int
    pixel_id_at: int

    def render(self, message_id: int, reference_time: np.ndarray, reference_time_index: np.ndarray,
               time_of_flight: np.ndarray, pixel_id: np.ndarray) -> bytes:
        """The bytes ``serialise_ev44(source_name, message_id, ...)`` gives for these values."""
        if len(reference_time) != self.pulses or len(time_of_flight) != self.events or \
                len(reference_time_index) != self.pulses or len(pixel_id) != self.events:
            raise ValueError(f"ev44 of {len(reference_time)} pulse(s) and {len(time_of_flight)} event(s) does not "
                             f"fit a template of {self.pulses} and {self.events}")
        buffer = bytearray(self.payload)
        struct.pack_into("<q", buffer, self.message_id_at, int(message_id))
        for at, dtype, values in ((self.reference_time_at, "<i8", reference_time),
                                  (self.reference_time_index_at, "<i4", reference_time_index),
                                  (self.time_of_flight_at, "<i4", time_of_flight),
                                  (self.pixel_id_at, "<i4", pixel_id)):
            np.frombuffer(buffer, dtype=dtype, count=len(values), offset=at)[:] = values
        return bytes(buffer)


def ev44_template(source_name: str, pulses: int, events: int) -> Ev44Template:
    """A template of ev44 messages from ``source_name`` with ``pulses`` pulses and ``events`` events."""
    from streaming_data_types.fbschemas.eventdata_ev44.Event44Message import Event44Message

    from harness.streams.serialise import serialise_ev44_fast

    payload = serialise_ev44_fast(source_name, 0, np.zeros(pulses, np.int64), np.zeros(pulses, np.int32),
                                  np.zeros(events, np.int32), np.zeros(events, np.int32))
    root = Event44Message.GetRootAs(payload, 0)
    return Ev44Template(payload, pulses, events, _field_at(root, _EV44_MESSAGE_ID),
                        _vector_at(root, _EV44_REFERENCE_TIME)[0], _vector_at(root, _EV44_REFERENCE_TIME_INDEX)[0],
                        _vector_at(root, _EV44_TIME_OF_FLIGHT)[0], _vector_at(root, _EV44_PIXEL_ID)[0])
