"""The settings of golden recordings: whether runs use them, the record mode (its choices
from the enum) and the project's directory."""

from __future__ import annotations

from harness.config import Setting, register_setting
from harness.recording.golden.modes import DEFAULT_RECORD_MODE, DEFAULT_RECORDINGS_DIR, RecordMode

__all__ = ["GOLDEN", "GOLDEN_CHOICES", "GOLDEN_COMPARE", "GOLDEN_OFF", "RECORD_MODE", "RECORDINGS"]

#: ``compare`` (default): scenario runs compare with (or, as the record mode says, write)
#: their golden recordings; ``off``: no golden step at all, whatever the record mode
GOLDEN_COMPARE = "compare"
GOLDEN_OFF = "off"
GOLDEN_CHOICES = (GOLDEN_COMPARE, GOLDEN_OFF)

GOLDEN = register_setting(Setting("golden", "Golden recordings of scenario runs: compare (default: compare "
                                  "with them, write them as the record mode says) or off (no golden step)",
                                  GOLDEN_COMPARE, GOLDEN_CHOICES))

RECORD_MODE = register_setting(Setting("record_mode", "When golden recordings are written: "
                                       + "|".join(RecordMode.choices()), DEFAULT_RECORD_MODE.value,
                                       RecordMode.choices()))
RECORDINGS = register_setting(Setting("recordings", "Directory of golden recordings", DEFAULT_RECORDINGS_DIR))
