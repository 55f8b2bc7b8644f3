"""The settings of golden recordings: the record mode (its choices from the enum) and the directory."""

from __future__ import annotations

from harness.config import Setting, register_setting
from harness.recording.golden.modes import DEFAULT_RECORD_MODE, DEFAULT_RECORDINGS_DIR, RecordMode

__all__ = ["RECORD_MODE", "RECORDINGS"]

RECORD_MODE = register_setting(Setting("record_mode", "When golden recordings are written: "
                                       + "|".join(RecordMode.choices()), DEFAULT_RECORD_MODE.value,
                                       RecordMode.choices()))
RECORDINGS = register_setting(Setting("recordings", "Directory of golden recordings", DEFAULT_RECORDINGS_DIR))
