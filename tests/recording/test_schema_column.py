"""The schema column: a payload's FlatBuffers file identifier (bytes 4-8), or b"" if it has none."""

from __future__ import annotations

import numpy as np
import pytest

from harness.recording.writer.writer import _schemas_joined

EV44 = b"\x10\x00\x00\x00ev44" + bytes(1014)
F144 = b"\x0c\x00\x00\x00f144" + bytes(40)

BATCHES = {
    "one schema": [EV44] * 50,
    "no schema": [bytes(64)] * 50,
    "random bytes": [np.random.default_rng(i).bytes(256) for i in range(50)],
    "mixed": [EV44, F144, b"\x00\x00\x00\x00\xff\xfe\xfd\xfc"] * 17,
    "short ones": [EV44, b"abc", b"", F144, b"1234ev4"] * 10,
    "single": [F144],
}


@pytest.mark.parametrize("payloads", BATCHES.values(), ids=BATCHES.keys())
def test_schema_is_bytes_4_to_8_when_alphanumeric(payloads):
    lengths = np.array([len(p) for p in payloads], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    got = _schemas_joined(b"".join(payloads), starts, lengths)
    assert list(got) == [p[4:8] if len(p) >= 8 and p[4:8].isalnum() else b"" for p in payloads]
