"""Writing a run's report directory: JSON plus PNG plots."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.errors import ConfigError
from harness.reporting.model import RunReport
from harness.reporting.plots import plot_ack_latency, plot_rates

__all__ = ["write_report"]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "run"


def write_report(report: RunReport, directory: Path, *, label: str | None = None, plots: bool = True) -> list[Path]:
    """Write ``<label>.json`` (and ``<label>-rates.png``, ``<label>-ack-latency.png``)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"report directory {directory}: cannot create it ({exc.strerror}); "
                          "give --donki-report a writable directory") from None
    stem = _slug(label or report.scenario)
    written = [directory / f"{stem}.json"]
    written[0].write_text(json.dumps(report.to_dict(), indent=2, default=str))
    if plots:
        written.append(plot_rates(report, directory / f"{stem}-rates.png"))
        written.append(plot_ack_latency(report, directory / f"{stem}-ack-latency.png"))
    return written
