"""The byte heap that holds payloads, keys and headers: every appended byte readable after each flush."""

from __future__ import annotations

import random

import h5py
import pytest

from harness.chunkheap import ByteHeap


@pytest.mark.parametrize("chunk", [16, 1024])
def test_appends_of_every_size_read_back_after_each_flush_and_a_reopen(tmp_path, chunk):
    rng = random.Random(chunk)
    sizes = [0, 1, 3, chunk - 1, chunk, chunk + 1, 2 * chunk + 5, 4 * chunk]
    written = bytearray()
    with h5py.File(tmp_path / "heap.h5", "w", libver="latest") as h5:
        dataset = h5.create_dataset("heap", (0,), maxshape=(None,), dtype="u1", chunks=(chunk,))
        heap = ByteHeap(dataset)
        for step in range(200):
            data = rng.randbytes(rng.choice(sizes))
            as_type = (bytes, bytearray, memoryview)[step % 3]
            assert heap.append(as_type(data)) == len(written)
            written += data
            assert heap.size == len(written)
            if step % 7 == 0:
                heap.flush()
                assert dataset[:].tobytes() == bytes(written)
            if step % 50 == 49:
                heap.flush()
                heap = ByteHeap(dataset)  # as a reopened recording: the flushed partial chunk is read back
        heap.flush()
        assert dataset[:].tobytes() == bytes(written)


def test_the_padding_of_a_flushed_partial_chunk_is_zeros_not_older_bytes(tmp_path):
    with h5py.File(tmp_path / "heap.h5", "w", libver="latest") as h5:
        dataset = h5.create_dataset("heap", (0,), maxshape=(None,), dtype="u1", chunks=(8,))
        heap = ByteHeap(dataset)
        heap.append(b"abcdefgh" + b"xyz")  # one whole chunk, then 3 bytes in the open chunk
        heap.flush()
        dataset.resize((16,))  # look past the extent, into the padding
        assert dataset[8:].tobytes() == b"xyz" + bytes(5)
