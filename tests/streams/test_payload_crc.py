"""The donki.crc32 header is zlib's CRC-32 whichever library computes it."""

from __future__ import annotations

import zlib

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from harness import headers
from harness.headers import crc32_hex


@given(st.binary(max_size=5000), st.integers(0, 64))
def test_the_crc_is_zlibs_for_any_payload_and_buffer_type(payload, cut):
    expected = f"{zlib.crc32(payload):08x}"
    view = memoryview(payload)
    assert crc32_hex(payload) == crc32_hex(bytearray(payload)) == crc32_hex(view) == expected
    assert crc32_hex(np.frombuffer(payload, np.uint8).data) == expected
    assert crc32_hex(view[cut:]) == f"{zlib.crc32(payload[cut:]):08x}"


def test_a_large_payload_and_the_fast_library_is_the_one_used():
    payload = np.random.default_rng(3).integers(0, 256, 9 << 20, dtype=np.uint8).tobytes()  # 9 MiB
    assert crc32_hex(payload) == f"{zlib.crc32(payload):08x}"
    assert headers._crc32.__module__.startswith("zlib_ng")  # a dependency: installed wherever donki is
