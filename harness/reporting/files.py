"""A run's report directory: ``<label>.json``, ``<label>.png``/``.svg`` and ``<label>.h5``.

The recording is hard-linked (copied across file systems) into the directory, so the
report still has its data after pytest prunes its temporary directories; the JSON names it
relative to itself, so a report directory can be moved or archived as a whole.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from harness.errors import ConfigError
from harness.reporting.model import RunReport

__all__ = ["read_report", "render_directory", "report_files", "slug", "write_report"]


def slug(text: str) -> str:
    """``text`` as a file name: runs of other characters than letters, digits, ``._-`` become ``-``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "run"


def _mkdir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"report directory {directory}: cannot create it ({exc.strerror}); "
                          "give --donki-report a writable directory") from None


def _keep_recording(source: str | None, target: Path) -> str | None:
    """Link or copy the run's recording to ``target``; its name relative to the report, else ``source``."""
    if not source or not Path(source).is_file():
        return source
    if Path(source).resolve() == target.resolve():
        return target.name
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: a copy
        shutil.copyfile(source, target)
    return target.name


def write_report(report: RunReport, directory: Path, *, label: str | None = None, plots: bool = True,
                 recording: bool = True) -> list[Path]:
    """Write the report JSON, its figure (PNG and SVG) and, with ``recording``, the recording.

    ``label`` (default: the test id, else the scenario) names the files; the report's test
    id defaults to it. Returns the paths written, JSON first.
    """
    _mkdir(directory)
    stem = slug(label or report.test_id or report.scenario)
    if report.test_id is None:
        report.test_id = label or None
    report.stamp()
    if recording:
        report.recording = _keep_recording(report.recording, directory / f"{stem}.h5")
    written = [directory / f"{stem}.json"]
    written[0].write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
    if plots:
        written += _render(report, directory / stem)
    if recording and report.recording == f"{stem}.h5":
        written.append(directory / f"{stem}.h5")
    return written


def _render(report: RunReport, stem: Path) -> list[Path]:
    from harness.reporting.plots import build_figure, save_figure

    return save_figure(build_figure(report), stem)


def read_report(path: Path) -> RunReport:
    """A report JSON read back; a clear error for a file that is missing, not JSON or not a report."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"report {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:  # nested too deep: bad input
        raise ConfigError(f"report {path}: cannot read it as JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"report {path}: expected a JSON object, got {type(data).__name__}")
    return RunReport.from_dict(data, source=f"report {path}")


def report_files(directory: Path) -> list[Path]:
    """The run report JSON files of a report directory (other JSON is skipped), by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(f"report directory {directory}: no such directory; expected one written by "
                          "--donki-report DIR")
    found = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            continue
        if isinstance(data, dict) and "scenario" in data and "checks" in data:
            found.append(path)
    if not found:
        raise ConfigError(f"report directory {directory}: no run report (*.json) in it; write one with "
                          "pytest --donki-report DIR")
    return found


def render_directory(directory: Path) -> list[Path]:
    """Draw the figure of every report in ``directory`` again from its JSON; returns the files."""
    written: list[Path] = []
    for path in report_files(directory):
        written += _render(read_report(path), path.with_suffix(""))
    return written
