"""Handing a run's report to the terminal summary and the report directory (xdist-safe)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_donki.settings import settings_of

if TYPE_CHECKING:
    from harness.runs import RunOutcome

__all__ = ["RUN_PROPERTY", "publish_run", "report_label"]

RUN_PROPERTY = "donki_run"  # user_properties key carrying a run's report to the controller (xdist)


def report_label(node: pytest.Item) -> str:
    """A file-name-safe label of a test."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", node.nodeid).strip("-")[-120:]


def publish_run(request: pytest.FixtureRequest, outcome: RunOutcome) -> None:
    """Write the run's report files (``--donki-report``) and pass its report on via user_properties."""
    report = outcome.report()
    directory = settings_of(request.config).report
    if directory:
        from harness.reporting import write_report

        target = Path(directory)
        target = target if target.is_absolute() else request.config.invocation_params.dir / target
        report.extra["files"] = [str(p) for p in write_report(report, target, label=report_label(request.node))]
    request.node.user_properties.append((RUN_PROPERTY, json.dumps(report.to_dict(), default=str)))
