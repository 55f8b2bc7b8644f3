"""The terminal summary: a table per scenario run, golden recordings written and unused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_donki.runs import RUN_PROPERTY

__all__ = ["RunCollector", "COLLECTOR"]

COLLECTOR = pytest.StashKey["RunCollector"]()


class RunCollector:
    """Gathers run reports from test reports (on the xdist controller too)."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, dict[str, Any]]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        for key, value in report.user_properties:
            if key == RUN_PROPERTY:
                self.runs.append((report.nodeid, json.loads(value)))

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        if not self.runs:
            return
        from harness.reporting import RunReport, StreamRow, render_run

        terminalreporter.section("donki scenario runs")
        for nodeid, data in self.runs:
            rows = [StreamRow(**row) for row in data["streams"]]
            report = RunReport(data["scenario"], data["ok"], rows, data["checks"], recording=data.get("recording"),
                               golden=data.get("golden"))
            terminalreporter.write_line(f"{nodeid}")
            for line in render_run(report).splitlines():
                terminalreporter.write_line("  " + line)
            for path in data.get("files", []):
                terminalreporter.write_line(f"  report     {path}")
        self._goldens(terminalreporter, config)

    def _goldens(self, terminalreporter: Any, config: pytest.Config) -> None:
        from pytest_donki.settings import setting

        written = sorted({g["path"] for _, d in self.runs if (g := d.get("golden")) and g.get("action") == "written"})
        used = {Path(g["path"]).resolve() for _, d in self.runs if (g := d.get("golden")) and g.get("path")}
        for path in written:
            terminalreporter.write_line(f"donki: wrote golden recording {path}")
        root = Path(setting(config, "recordings"))
        root = root if root.is_absolute() else config.rootpath / root
        if root.is_dir():
            unused = sorted(p for p in root.glob("*.h5") if p.resolve() not in used)
            if unused:
                terminalreporter.write_line(f"donki: golden recordings not used by this session: "
                                            f"{', '.join(p.name for p in unused)}")
