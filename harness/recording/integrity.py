"""Checking a recording's stored payloads against their ``donki.crc32`` headers before replay.

A bit flip in the payload heap leaves a readable file whose messages are wrong; a replay
would publish them as if they were good. Every message that carries a ``donki.crc32``
header is checked (messages without one, e.g. recorded from a foreign producer, cannot
be, and are counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harness.errors import RecordingError
from harness.headers import CRC32, crc32_hex

if TYPE_CHECKING:
    import numpy as np

    from harness.recording.reader.reader import Recording

__all__ = ["MAX_NAMED", "Integrity", "refuse_damaged", "verify_checksums"]

MAX_NAMED = 5  # damaged messages named in the error; the rest are counted


@dataclass
class Integrity:
    """What a check found: messages checked, without a checksum, and the damaged ones (named up to a limit)."""

    checked: int = 0
    unchecked: int = 0
    damaged: int = 0
    named: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.damaged == 0

    def describe(self) -> str:
        more = f" and {self.damaged - len(self.named)} more" if self.damaged > len(self.named) else ""
        return f"{self.damaged} of {self.checked} checked message(s) fail their {CRC32}: {'; '.join(self.named)}{more}"


def verify_checksums(recording: Recording, rows: Sequence[int] | np.ndarray | None = None) -> Integrity:
    """Check the payload of every selected message that has a ``donki.crc32`` header.

    Raises
    ------
    RecordingError
        The file cannot be read (the headers or the payload heap are damaged).
    """
    found = Integrity()
    for record in recording.records(rows):
        expected = next((value for key, value in record.headers if key == CRC32), None)
        if expected is None:
            found.unchecked += 1
            continue
        found.checked += 1
        actual = crc32_hex(record.value or b"")
        if expected.decode(errors="replace") != actual:
            found.damaged += 1
            if len(found.named) < MAX_NAMED:
                found.named.append(f"{record.topic}[{record.partition}] offset {record.offset} "
                                   f"(stored {expected!r}, payload {actual})")
    return found


def refuse_damaged(recording: Recording, rows: Sequence[int] | np.ndarray | None = None) -> Integrity:
    """:func:`verify_checksums`, raising :class:`RecordingError` when a message is damaged."""
    found = verify_checksums(recording, rows)
    if not found.ok:
        raise RecordingError(f"{recording.path} is damaged: {found.describe()}; refusing to replay damaged data "
                             "(--allow-damaged / verify=False sends it anyway)")
    return found
