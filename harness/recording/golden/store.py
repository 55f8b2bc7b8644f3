"""Golden recordings on disk: where they live, what a record mode does with them, and
committing a run's recording as (part of) a golden one.

A run is always recorded to a *candidate* file first. :meth:`GoldenStore.commit` then
decides, from the mode and the test outcome, whether the candidate becomes the golden
recording (atomically, by rename), is merged into it, or is discarded. A failed test
never writes a golden recording. Golden files keep *local* topic names (without the
test's namespace prefix), so they replay into any namespace.

A store reads, but never writes, a *fallback* directory: by default the golden
recordings shipped with the built-in scenarios (:mod:`harness.scenarios.goldens`). When
the project's directory lacks ``<name>.h5`` and the fallback has it, the run is compared
with the fallback's file; a record mode that writes writes into the project's directory.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import RecordingError
from harness.recording.golden.modes import DEFAULT_RECORDINGS_DIR, RecordMode
from harness.recording.names import local_topic
from harness.recording.writer.copying import inherited, write_records

__all__ = ["GoldenStore", "GoldenPlan", "Fallback", "PACKAGED", "stream_key", "DEFAULT_RECORDINGS_DIR",
           "RECORD_MODE_FLAG"]

RECORD_MODE_FLAG = "--donki-record-mode"
SUFFIX = ".h5"


def stream_key(record: Any, namespace: str | None = None) -> str:
    """The stream a message belongs to: its ``donki.stream`` header, else ``<local topic>[<partition>]``."""
    for key, value in record.headers:
        if key == "donki.stream" and value is not None:
            return str(value.decode(errors="replace"))
    return f"{local_topic(record.topic, namespace)}[{record.partition}]"


@dataclass(frozen=True)
class GoldenPlan:
    """What a test does with its golden recording: compare with it, record it, or both."""

    name: str
    path: Path
    mode: RecordMode
    exists: bool
    source: Path | None = None  # the file compared with, when not ``path`` (a packaged golden recording)

    @property
    def golden_path(self) -> Path:
        """The golden recording a run is compared with (and a merge starts from): the
        project's own file, else the packaged one; :attr:`path` is where writes go."""
        return self.source if self.source is not None else self.path

    @property
    def packaged(self) -> bool:
        """The golden recording is the packaged one (the project has none of its own)."""
        return self.source is not None

    @property
    def compare(self) -> bool:
        """Compare the run with the existing golden recording."""
        return self.exists and self.mode.compares_existing

    @property
    def record(self) -> bool:
        """Record the run (it may become, or be merged into, the golden recording)."""
        return (not self.exists and self.mode.records_missing) or (self.exists and self.mode.writes_existing)


class Fallback(enum.Enum):
    """Where a store looks when its own directory lacks a golden recording."""

    PACKAGED = "the golden recordings shipped with the built-in scenarios"


#: the default fallback of :class:`GoldenStore`: :mod:`harness.scenarios.goldens`
PACKAGED = Fallback.PACKAGED


class GoldenStore:
    """Golden recordings under ``root`` (the ``recordings`` setting), one file per name.

    Parameters
    ----------
    root
        The project's own golden directory; every write goes here.
    mode
        The record mode (default ``none``).
    fallback
        Read-only directory used when ``root`` lacks ``<name>.h5``: :data:`PACKAGED`
        (default, the built-in scenarios' goldens), another directory, or ``None``.
        The project's own file always wins.
    """

    def __init__(self, root: str | Path = DEFAULT_RECORDINGS_DIR, mode: RecordMode | str | None = None, *,
                 fallback: str | Path | Fallback | None = PACKAGED) -> None:
        self.root = Path(root)
        self.mode = RecordMode.parse(mode)
        self.fallback = _fallback_dir(fallback)

    def path_for(self, name: str) -> Path:
        """The golden file for ``name`` (a scenario name or test id; unsafe characters replaced)."""
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
        if not safe:
            raise RecordingError(f"golden recording name {name!r} has no usable characters")
        return self.root / (safe if safe.endswith(SUFFIX) else safe + SUFFIX)

    def fallback_for(self, name: str) -> Path | None:
        """The fallback directory's file for ``name`` if the project's directory lacks it and it exists."""
        path = self.path_for(name)
        if self.fallback is None or path.exists():
            return None
        candidate = self.fallback / path.name
        return candidate if candidate.is_file() else None

    def has(self, name: str) -> bool:
        """A golden recording ``name`` exists, the project's own or a fallback."""
        return self.path_for(name).exists() or self.fallback_for(name) is not None

    def plan(self, name: str) -> GoldenPlan:
        """The plan for ``name``; in mode ``none`` a missing golden recording is an error."""
        path = self.path_for(name)
        source = self.fallback_for(name)
        plan = GoldenPlan(name, path, self.mode, path.exists() or source is not None, source)
        if not plan.exists and not self.mode.records_missing:
            raise RecordingError(
                f"golden recording {path} does not exist{self._nor_fallback()} and record mode is 'none'; "
                f"run once with {RECORD_MODE_FLAG}=once (or set donki_record_mode = once) to record it")
        return plan

    def _nor_fallback(self) -> str:
        return f" (nor in {self.fallback})" if self.fallback is not None else ""

    def unused(self, used: Iterable[str | Path]) -> list[Path]:
        """The golden recordings in this store that are not among ``used`` (paths), by name."""
        if not self.root.is_dir():
            return []
        seen = {Path(p).resolve() for p in used}
        return sorted(p for p in self.root.glob(f"*{SUFFIX}") if p.resolve() not in seen)

    def candidate_path(self, plan: GoldenPlan) -> Path:
        """Where the run records before :meth:`commit` (same directory, so the rename is atomic)."""
        plan.path.parent.mkdir(parents=True, exist_ok=True)
        return plan.path.with_name(f".{plan.path.stem}.{uuid.uuid4().hex[:8]}.candidate{SUFFIX}")

    def commit(self, plan: GoldenPlan, candidate: str | Path, *, passed: bool,
               namespace: str | None = None) -> Path | None:
        """Make ``candidate`` the golden recording if the mode says so and the test passed.

        ``namespace`` is the run's topic prefix, removed from topic names. Returns the
        written golden path, or ``None`` when nothing was written. The candidate is
        always removed.
        """
        candidate = Path(candidate)
        staged = plan.path.with_name(f".{plan.path.stem}.{uuid.uuid4().hex[:8]}.staged{SUFFIX}")
        try:
            if not passed or not plan.record:
                return None
            if not self._stage(plan, candidate, staged, namespace):
                return None
            os.replace(staged, plan.path)
            return plan.path
        finally:
            for leftover in (candidate, staged):
                leftover.unlink(missing_ok=True)

    def _stage(self, plan: GoldenPlan, candidate: Path, staged: Path, namespace: str | None) -> bool:
        """Write the new golden recording to ``staged``; false if it would not change."""
        from harness.recording.reader.reader import Recording

        with Recording(candidate) as run:
            if not plan.exists or plan.mode is RecordMode.REWRITE:
                _write(staged, [(run, None, namespace)], run, f"recorded in mode {plan.mode}")
                return True
            with Recording(plan.golden_path) as golden:
                run_streams = {stream_key(r, namespace) for r in run.records()}
                golden_streams = {stream_key(r) for r in golden.records()}
                if plan.mode is RecordMode.NEW:  # keep the golden recording, add the streams it lacks
                    if run_streams <= golden_streams:
                        return False
                    parts = [(golden, None, None), (run, run_streams - golden_streams, namespace)]
                    _write(staged, parts, golden, "merged in mode new: streams added")
                else:  # ALL: this run's streams replace theirs; streams not run are kept
                    parts = [(golden, golden_streams - run_streams, None), (run, None, namespace)]
                    _write(staged, parts, run, "merged in mode all: streams re-recorded")
                return True


def _fallback_dir(fallback: str | Path | Fallback | None) -> Path | None:
    if fallback is None:
        return None
    if isinstance(fallback, Fallback):
        from harness.scenarios.goldens import packaged_goldens_dir

        return packaged_goldens_dir()
    return Path(fallback)


def _select(recording: Any, streams: set[str] | None, namespace: str | None) -> Iterable[Any]:
    for record in recording.records():
        if streams is None or stream_key(record, namespace) in streams:
            yield record


def _write(path: Path, parts: list[tuple[Any, set[str] | None, str | None]], primary: Any, reason: str) -> None:
    def records() -> Iterable[Any]:
        for recording, streams, namespace in parts:
            for record in _select(recording, streams, namespace):
                yield dataclasses.replace(record, topic=local_topic(record.topic, namespace))

    recorded = {f"run_{key}": primary.metadata[key] for key in ("started_iso", "stopped_iso")
                if key in primary.metadata}
    meta = {**inherited(primary.metadata), **recorded, "golden": True}
    meta.pop("namespace", None)
    # no NeXus views: they would double the size of a file kept in a repository, and
    # harness.recording.write_views adds them to a copy when wanted
    write_records(path, records(), journal=primary.journal, scenario=primary.scenario, metadata=meta,
                  stop_reason=reason, views=False)
