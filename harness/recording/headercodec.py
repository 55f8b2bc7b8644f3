"""Kafka header lists to bytes and back, for the ``raw/headers`` heap.

Layout per header, little-endian: ``u16`` key length, key (UTF-8), ``i32`` value length
(``-1`` for a null value), value bytes. Order and duplicates are kept exactly, since
Kafka allows both and a replay must reproduce them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from harness.errors import RecordingError

__all__ = ["encode_headers", "decode_headers"]

_KEY = struct.Struct("<H")
_VALUE = struct.Struct("<i")
NULL_VALUE = -1


def encode_headers(headers: Sequence[tuple[str, bytes | None]] | None) -> bytes:
    """The encoded form of ``headers`` (``b""`` for none)."""
    if not headers:
        return b""
    parts = []
    for key, value in headers:
        name = key.encode() if isinstance(key, str) else bytes(key)
        parts.append(_KEY.pack(len(name)))
        parts.append(name)
        if value is None:
            parts.append(_VALUE.pack(NULL_VALUE))
        else:
            parts.append(_VALUE.pack(len(value)))
            parts.append(bytes(value))
    return b"".join(parts)


def decode_headers(blob: bytes | memoryview, where: str = "headers") -> tuple[tuple[str, bytes | None], ...]:
    """Headers from their encoded form; a :class:`RecordingError` naming ``where`` if damaged."""
    data = memoryview(blob)
    out: list[tuple[str, bytes | None]] = []
    pos = 0
    try:
        while pos < len(data):
            (klen,) = _KEY.unpack_from(data, pos)
            pos += _KEY.size
            if pos + klen > len(data):
                raise ValueError(f"key length {klen} runs past the end")
            key = bytes(data[pos:pos + klen]).decode()
            pos += klen
            (vlen,) = _VALUE.unpack_from(data, pos)
            pos += _VALUE.size
            if vlen == NULL_VALUE:
                out.append((key, None))
                continue
            if vlen < 0 or pos + vlen > len(data):
                raise ValueError(f"value length {vlen} runs past the end")
            out.append((key, bytes(data[pos:pos + vlen])))
            pos += vlen
        if pos != len(data):
            raise ValueError("trailing bytes")
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise RecordingError(f"{where}: the stored Kafka headers are damaged ({exc})") from None
    return tuple(out)
