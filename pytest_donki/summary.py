"""The terminal summary: a line or a table per scenario run, golden recordings written and unused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_donki.publish import RUN_PROPERTY
from pytest_donki.settings import from_rootdir, settings_of

__all__ = ["RunCollector", "COLLECTOR"]

COLLECTOR = pytest.StashKey["RunCollector"]()


class RunCollector:
    """Gathers run reports from test reports (on the xdist controller too), and how each test ended."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, dict[str, Any]]] = []
        self.outcomes: dict[str, bool] = {}  # nodeid -> the test passed
        self.collected = 0

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = len(session.items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.outcomes[report.nodeid] = report.passed
        if report.when != "teardown":
            return
        for key, value in report.user_properties:
            if key == RUN_PROPERTY and isinstance(value, str):  # publish_run stores JSON text
                self.runs.append((report.nodeid, json.loads(value)))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
        if not self.runs:
            return
        from harness.reporting import RunReport, render_line, render_run

        terminalreporter.section("donki scenario runs")
        quiet = config.get_verbosity() < 0
        for nodeid, data in self.runs:
            report, passed = RunReport.from_dict(data), self.outcomes.get(nodeid)
            if quiet:
                terminalreporter.write_line(f"{nodeid}: {render_line(report, passed)}")
                continue
            terminalreporter.write_line(f"{nodeid}")
            for line in render_run(report, passed).splitlines():
                terminalreporter.write_line("  " + line)
            for path in data.get("files", []):
                terminalreporter.write_line(f"  report     {path}")
        self._goldens(terminalreporter, config)

    def _every_test_ran(self, terminalreporter: pytest.TerminalReporter) -> bool:
        return not terminalreporter.stats.get("deselected") and len(self.outcomes) >= self.collected

    def _goldens(self, terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
        from harness.recording.golden.store import GoldenStore

        goldens = [g for _, d in self.runs if (g := d.get("golden"))]
        for path in sorted({g["path"] for g in goldens if g.get("action") == "written"}):
            terminalreporter.write_line(f"donki: wrote golden recording {path}")
        if not self._every_test_ran(terminalreporter):
            return  # a partial session says nothing about the goldens it did not reach
        store = GoldenStore(from_rootdir(config, settings_of(config).recordings))
        unused = store.unused(Path(g["path"]) for g in goldens if g.get("path"))
        if unused:
            terminalreporter.write_line(f"donki: golden recordings not used by this session: "
                                        f"{', '.join(p.name for p in unused)}")
