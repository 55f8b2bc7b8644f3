"""Record modes: when a test records its golden recording and when it compares with it.

One enum; the command-line choices, the ini key and the plugin are all derived from it.
Named after vcrpy / pytest-recording, with streams in place of HTTP interactions:

========  ====================================  ===================================
mode      golden recording missing              golden recording present
========  ====================================  ===================================
none      error: names the path and the flag    compare (never written)
once      record it                             compare (never written)
new       record it                             compare its streams; add new streams
all       record it                             record again, keep streams not run
rewrite   record it                             replace it entirely
========  ====================================  ===================================

Whatever the mode, a failed test never writes a golden recording.
"""

from __future__ import annotations

import enum

from harness.errors import ConfigError

__all__ = ["RecordMode", "DEFAULT_RECORD_MODE", "DEFAULT_RECORDINGS_DIR"]


class RecordMode(str, enum.Enum):
    """When golden recordings are written (see the module docstring)."""

    NONE = "none"
    ONCE = "once"
    NEW = "new"
    ALL = "all"
    REWRITE = "rewrite"

    @classmethod
    def choices(cls) -> tuple[str, ...]:
        """The values, for argparse ``choices`` and the settings registry."""
        return tuple(mode.value for mode in cls)

    @classmethod
    def parse(cls, value: str | RecordMode | None) -> RecordMode:
        """A mode from its value (``None`` is the default, ``none``)."""
        if value is None:
            return DEFAULT_RECORD_MODE
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            choices = ", ".join(cls.choices())
            raise ConfigError(f"record mode {value!r} is not valid; expected one of: {choices}") from None

    @property
    def records_missing(self) -> bool:
        """A missing golden recording is recorded (else it is an error)."""
        return self is not RecordMode.NONE

    @property
    def compares_existing(self) -> bool:
        """An existing golden recording is compared with the run."""
        return self in (RecordMode.NONE, RecordMode.ONCE, RecordMode.NEW)

    @property
    def writes_existing(self) -> bool:
        """An existing golden recording may be written (merged or replaced) after a passing test."""
        return self in (RecordMode.NEW, RecordMode.ALL, RecordMode.REWRITE)

    def __str__(self) -> str:
        return self.value


#: where golden recordings live unless the ``recordings`` setting says otherwise
DEFAULT_RECORDINGS_DIR = "recordings"
DEFAULT_RECORD_MODE = RecordMode.NONE
