"""Issue 12, damaged data: replay refuses payloads that fail their checksum, HDF5 errors are RecordingErrors,
a full disk is one clear error."""

import dataclasses
import mmap
import shutil
import subprocess
import uuid

import h5py
import numpy as np
import pytest

from harness.cli.main import main
from harness.errors import RecordingError
from harness.recording import format as fmt
from harness.recording.integrity import verify_checksums
from harness.recording.reader.reader import Recording
from harness.recording.replay.replayer import Replayer
from harness.recording.writer.writer import RecordingWriter
from tests.recording.recording_helpers import mixed_records

NOWHERE = {"bootstrap.servers": "127.0.0.1:1"}


def write(path, count=40):
    with RecordingWriter(path, topics=["t"]) as writer:
        for record in mixed_records("t", count):
            writer.append(record)
    return path


def flip_payload_byte(path, row=0):
    """Flip one bit inside the payload of message ``row`` (a harness message with a donki.crc32)."""
    with h5py.File(path, "r+") as h5:
        entry = h5[fmt.INDEX][row]
        at = int(entry["payload_start"]) + int(entry["payload_length"]) // 2
        h5[fmt.PAYLOAD][at] ^= 0x10


def test_an_intact_recording_passes_its_checksums(tmp_path):
    with Recording(write(tmp_path / "ok.h5")) as recording:
        found = verify_checksums(recording)
    assert found.ok and found.checked == 20 and found.unchecked == 20


def test_replay_refuses_a_payload_that_fails_its_checksum(tmp_path):
    path = write(tmp_path / "flipped.h5")
    flip_payload_byte(path, row=4)
    with pytest.raises(RecordingError, match=r"damaged: 1 of 20 checked message\(s\) fail their donki.crc32.*offset 4"):
        Replayer(path, NOWHERE)
    Replayer(path, NOWHERE, verify=False).recording.close()  # --allow-damaged: taken as it is


def test_the_replay_cli_refuses_damaged_data_in_one_line(tmp_path, capsys):
    path = write(tmp_path / "flipped.h5")
    flip_payload_byte(path)
    assert main(["replay", str(path), "-b", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "--allow-damaged" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_damaged_hdf5_metadata_is_a_recording_error(tmp_path):
    path = write(tmp_path / "attrs.h5")
    data = bytearray(path.read_bytes())
    # damage every copy of the root attribute's name, as a bit flip in the object header would
    needle = fmt.ATTR_VERSION.encode()
    hits = [i for i in range(len(data)) if data.startswith(needle, i)]
    assert hits, f"attribute name {needle!r} not found in the file layout: the test needs a new way to damage it"
    for i in hits:
        data[i + 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RecordingError, match="attrs.h5"):
        Recording(path).close()


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs made for the test and removed after it."""
    mount = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True,
                          check=False, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_clear_recording_error(small_disk):
    path = small_disk / "full.h5"
    writer = RecordingWriter(path, topics=["t"])
    rng = np.random.default_rng(0)
    records = mixed_records("t", 4)
    with pytest.raises(RecordingError, match=r"full.h5: the disk is full \(no space left on device\)"):
        for i in range(5000):
            writer.append(dataclasses.replace(records[0], offset=i, value=rng.bytes(2000)))
            if i % 50 == 0:
                writer.flush()
    with pytest.raises(RecordingError, match="disk is full"):
        writer.abandon()


def test_a_global_heap_that_would_hang_libhdf5_is_refused(tmp_path):
    """Found by the fuzz suite: one bit flip made the free-space object of the heap that holds the
    metadata strings size 0, and libhdf5 looped forever (holding the GIL) reading /meta."""
    path = write(tmp_path / "heap.h5")
    data = bytearray(path.read_bytes())
    at = data.find(b"GCOL")
    assert at != -1
    end = at + int.from_bytes(data[at + 8:at + 16], "little")
    p = at + 16
    while p + 16 <= end:  # walk to the free-space object (index 0)
        index, length = int.from_bytes(data[p:p + 2], "little"), int.from_bytes(data[p + 8:p + 16], "little")
        if index == 0:
            data[p + 8:p + 16] = bytes(8)
            break
        p += 16 + (length + 7) // 8 * 8
    else:
        raise AssertionError("no free-space object in this file's heap: the test needs a new way to damage it")
    path.write_bytes(bytes(data))
    with pytest.raises(RecordingError, match="global heap .* size 0"):
        Recording(path)


def _zero_free_space(data, at):
    """Make the free-space object of the heap collection at ``at`` size 0 (what hangs libhdf5)."""
    end = at + int.from_bytes(data[at + 8:at + 16], "little")
    p = at + 16
    while p + 16 <= end:
        index, length = int.from_bytes(data[p:p + 2], "little"), int.from_bytes(data[p + 8:p + 16], "little")
        if index == 0:
            data[p + 8:p + 16] = bytes(8)
            return True
        p += 16 + (length + 7) // 8 * 8
    return False


def test_a_big_files_journal_heap_is_walked_wherever_it_lies(tmp_path, monkeypatch):
    """A big recording is scanned by signature only at its ends; the heap of its journal, which a
    long run writes in the middle, is found through the journal's own elements."""
    from harness.orchestra.journal import EventKind, Journal
    from harness.recording.reader import reader

    journal = Journal()
    for trigger in range(1, 3000):
        journal.record(EventKind.ACK, trigger=trigger, player="p", counts={"messages": 1})
    path = tmp_path / "journal.h5"
    writer = RecordingWriter(path, topics=["t"])
    for record in mixed_records("t", 10):
        writer.append(record)
    writer.close(journal=journal)
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        collections = reader._vlen_collections(path, mapped)
    assert collections, "the journal's strings live in global heap collections"
    data = bytearray(path.read_bytes())
    assert all(data[at:at + 4] == b"GCOL" for at in collections)
    assert any(_zero_free_space(data, at) for at in sorted(collections))
    path.write_bytes(bytes(data))
    monkeypatch.setattr(reader, "GCOL_SCAN_WHOLE", 0)  # as if the file were big: the ends alone are scanned
    monkeypatch.setattr(reader, "GCOL_SCAN_BYTES", 0)
    with pytest.raises(RecordingError, match="global heap at byte .* size 0"):
        Recording(path)
