"""The golden step of a run: compare with the golden recording, or write it once the test passed."""

from __future__ import annotations

import enum
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.recording.golden.store import GoldenPlan, GoldenStore

__all__ = ["GoldenAction", "GoldenRequest", "GoldenOutcome", "plan_golden"]


class GoldenAction(enum.Enum):
    """What a run does, or did, with its golden recording."""

    COMPARED = "compared"  # the run was compared with it
    PENDING = "pending"  # to be written if the test passes (:meth:`GoldenOutcome.finish`)
    WRITTEN = "written"
    NOT_WRITTEN = "not written"  # the test failed, or the recording would not change
    KEPT = "kept"  # exists, and the record mode neither compares nor writes it
    DISABLED = "disabled"  # the caller asked for no golden recording


@dataclass(frozen=True)
class GoldenRequest:
    """Which golden recording a run uses: ``name`` in ``store`` (whose record mode decides)."""

    store: GoldenStore
    name: str


@dataclass
class GoldenOutcome:
    """The golden recording of a run: its plan and what was done with it."""

    name: str
    action: GoldenAction
    store: GoldenStore | None = None
    plan: GoldenPlan | None = None

    @classmethod
    def disabled(cls) -> GoldenOutcome:
        """No golden recording for this run."""
        return cls("", GoldenAction.DISABLED)

    @property
    def path(self) -> Path | None:
        """The golden recording this run compared with (perhaps a packaged one) or writes."""
        if self.plan is None:
            return None
        compared = self.action in (GoldenAction.COMPARED, GoldenAction.KEPT)
        return self.plan.golden_path if compared else self.plan.path

    def finish(self, recording: Path, *, passed: bool, namespace: str) -> Path | None:
        """Write the golden recording from ``recording`` if it is pending and ``passed``."""
        if self.action is not GoldenAction.PENDING or self.store is None or self.plan is None:
            return None
        candidate = self.store.candidate_path(self.plan)
        shutil.copyfile(recording, candidate)  # the run's own recording stays for the report
        written = self.store.commit(self.plan, candidate, passed=passed, namespace=namespace)
        self.action = GoldenAction.WRITTEN if written else GoldenAction.NOT_WRITTEN
        return written

    def to_dict(self) -> dict[str, Any]:
        mode = str(self.store.mode) if self.store is not None else "-"
        return {"name": self.name, "path": str(self.path) if self.path else None, "mode": mode,
                "action": self.action.value, "packaged": bool(self.plan and self.plan.packaged)}


def plan_golden(request: GoldenRequest | None) -> GoldenOutcome:
    """Plan the golden step before anything runs: in mode ``none`` a missing file is an error now."""
    if request is None:
        return GoldenOutcome.disabled()
    plan = request.store.plan(request.name)  # a RecordingError naming the path and the flag
    action = GoldenAction.COMPARED if plan.compare else GoldenAction.PENDING if plan.record else GoldenAction.KEPT
    return GoldenOutcome(request.name, action, request.store, plan)
