"""Decoding ESS FlatBuffers payloads with ``ess-streaming-data-types``."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.errors import RecordingError
from harness.records import schema_id

__all__ = ["decode_payload", "known_schema", "f144_value_dtype"]

# f144 Value union type -> numpy dtype (the union tag is the only place the width is kept)
_F144_DTYPES = {
    1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "i8", 8: "u8", 9: "f4", 10: "f8",
    11: "i1", 12: "u1", 13: "i2", 14: "u2", 15: "i4", 16: "u4", 17: "i8", 18: "u8", 19: "f4", 20: "f8",
}


def known_schema(schema: str) -> bool:
    """Whether ``ess-streaming-data-types`` can decode ``schema``."""
    from streaming_data_types import DESERIALISERS

    return schema in DESERIALISERS


def decode_payload(payload: bytes, where: str = "message") -> Any:
    """The decoded content of an ESS FlatBuffer (a namedtuple), ``None`` for an unknown schema.

    A payload that names a known schema but does not decode is a :class:`RecordingError`.
    """
    from streaming_data_types import DESERIALISERS

    schema = schema_id(payload)
    decoder = DESERIALISERS.get(schema)
    if decoder is None:
        return None
    try:
        return decoder(payload)
    except Exception as exc:  # noqa: BLE001 - flatbuffers raises anything on a bad buffer
        raise RecordingError(f"{where}: payload with schema {schema!r} does not decode: {exc!r}") from None


def f144_value_dtype(payload: bytes) -> np.dtype:
    """The numpy dtype of an f144 message's value (scalar or array element)."""
    from streaming_data_types.fbschemas.logdata_f144.f144_LogData import f144_LogData

    tag = f144_LogData.GetRootAsf144_LogData(payload, 0).ValueType()
    try:
        return np.dtype(_F144_DTYPES[tag])
    except KeyError:
        raise RecordingError(f"f144 value type {tag} is not one this reader knows") from None
