"""Fuzzing the recording reader: bit flips and truncations of a real recording. Opening and reading
the damaged copy either works or raises RecordingError, quickly; nothing else escapes, and the
intact original still reads the same afterwards."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import RecordingError
from harness.orchestra import EventKind, Journal
from harness.recording.integrity import verify_checksums
from harness.recording.reader.reader import Recording
from harness.recording.writer.writer import RecordingWriter
from tests.recording.recording_helpers import mixed_records

EXAMPLES = 300
PER_FILE_S = 5.0  # generous for a loaded 2-core machine; a hang would take forever


class Original(tuple):
    """(path, bytes) of the intact recording; short in hypothesis's reports."""

    def __repr__(self) -> str:
        return f"Original({self[0].name}, {len(self[1])} bytes)"


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "original.h5"
    journal = Journal()
    journal.record(EventKind.RUN_STARTED, detail="fuzz")
    with RecordingWriter(path, topics=["t", "u"]) as writer:
        for record in mixed_records("t", 60) + mixed_records("u", 20, stream="u"):
            writer.append(record)
        writer.close(journal=journal, scenario=None)
    return Original((path, path.read_bytes()))


def read_everything(path):
    """Everything a replay or a check reads; returns the payloads."""
    with Recording(path) as recording:
        payloads = [record.value for record in recording.records()]
        verify_checksums(recording)
        recording.journal  # noqa: B018 - reading it is the test
        recording.scenario  # noqa: B018 - reading it is the test
        recording.stream_names()
        return payloads


def check_damaged(path, data):
    path.write_bytes(data)
    start = time.monotonic()
    try:
        read_everything(path)
    except RecordingError:
        pass  # the one allowed failure: a clear error naming the file
    assert time.monotonic() - start < PER_FILE_S


# where a flip lands: anywhere, or in the HDF5 metadata at the file's ends (superblock, object headers,
# heaps: a few kB, where damage matters most and a uniform choice would rarely hit)
position = st.one_of(st.floats(0, 1, exclude_max=True).map(lambda f: ("any", f)),
                     st.integers(0, 4095).map(lambda i: ("head", i)), st.integers(1, 8192).map(lambda i: ("tail", i)))


def offset(where, size):
    kind, value = where
    return int(value * size) if kind == "any" else (min(value, size - 1) if kind == "head" else max(0, size - value))


@settings(max_examples=EXAMPLES, deadline=None)
@given(flips=st.lists(st.tuples(position, st.integers(0, 7)), min_size=1, max_size=4))
def test_bit_flips_give_a_recording_or_a_recording_error(original, flips):
    path, data = original
    damaged = bytearray(data)
    for where, bit in flips:
        damaged[offset(where, len(damaged))] ^= 1 << bit
    check_damaged(path.with_name("flipped.h5"), bytes(damaged))


@settings(max_examples=EXAMPLES // 3, deadline=None)
@given(keep=st.floats(0, 1, exclude_max=True))
def test_truncations_give_a_recording_or_a_recording_error(original, keep):
    path, data = original
    check_damaged(path.with_name("truncated.h5"), data[:int(keep * len(data))])


def test_the_original_reads_the_same_after_the_fuzzing(original):
    path, data = original
    assert path.read_bytes() == data
    payloads = read_everything(path)
    assert len(payloads) == 80
    with Recording(path) as recording:
        assert verify_checksums(recording).ok
