"""Scenario runs in the reports people already read: pytest-html rows and JUnit XML properties.

A scenario run's report reaches the test's teardown report as the ``donki_run`` user
property (see :mod:`pytest_donki.publish`). This plugin, registered by ``pytest_configure``,
adds to that teardown report:

- JUnit XML properties (``record_property`` style): ``donki_verdict``, ``donki_scenario``
  and ``donki_check_<name>`` per check (``passed``, or ``failed: <first finding>``);
- when pytest-html writes a report (``--html``), the run's summary table and its figure as
  the row's ``extras`` (pytest-html gathers every phase's extras into the test's row).

The figure is the PNG the run's ``--donki-report`` directory holds, or else drawn in memory.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_donki.publish import RUN_PROPERTY

if TYPE_CHECKING:
    from collections.abc import Generator

    from pluggy import Result

    from harness.reporting import RunReport

__all__ = ["PLUGIN_NAME", "DonkiReportsPlugin", "html_extras", "junit_properties"]

PLUGIN_NAME = "donki-reports"
FINDING_CHARS = 200  # a JUnit property is one attribute: the first finding, shortened
STARTED = pytest.StashKey[float]()


def junit_properties(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The verdicts of one run report (its JSON) as ``(name, value)`` properties."""
    props = [("donki_scenario", str(data.get("scenario"))), ("donki_verdict", "passed" if data.get("ok") else "failed")]
    for name, check in (data.get("checks") or {}).items():
        if check.get("passed"):
            value = "passed"
        else:
            findings = check.get("findings") or [{}]
            problems = len(check.get("findings") or []) + check.get("omitted", 0)
            value = f"failed: {problems} problem(s); {findings[0].get('message', '')}"
        props.append((f"donki_check_{name}", value[:FINDING_CHARS]))
    return props


def _figure_png(report: RunReport, files: list[str]) -> bytes | None:
    """The run's figure: the PNG of its report directory, else drawn now (None without matplotlib)."""
    for name in files:
        if name.endswith(".png") and Path(name).is_file():
            return Path(name).read_bytes()
    try:
        import io

        from harness.reporting.plots import build_figure
    except ImportError:
        return None
    try:
        figure = build_figure(report)
    except Exception:  # noqa: BLE001 - the ConfigError without matplotlib; a report row must not fail the test
        return None
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, edgecolor=figure.get_edgecolor())
    return buffer.getvalue()


def html_extras(data: dict[str, Any], extras: Any) -> list[dict[str, Any]]:
    """pytest-html extras for one run report: the table and check lines as HTML, the figure as PNG."""
    from harness.reporting import RunReport
    from harness.reporting.table import check_lines, stream_table, to_html

    report = RunReport.from_dict(data).stamp()
    verdict = "passed" if report.ok else "FAILED"
    colour = "#1a7f37" if report.ok else "#cf222e"
    title = f'<h4 style="color:{colour}">donki scenario {report.scenario}: {verdict}</h4>'
    body = to_html(stream_table(report.rows)) + "<pre>" + _escape("\n".join(check_lines(report))) + "</pre>"
    out = [extras.html(f'<div class="donki-run">{title}{body}</div>')]
    png = _figure_png(report, data.get("files") or [])
    if png is not None:
        out.append(extras.png(base64.b64encode(png).decode("ascii"), name=f"donki {report.scenario}"))
    return out


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def _runs(report: pytest.TestReport) -> list[dict[str, Any]]:
    return [json.loads(str(value)) for key, value in report.user_properties if key == RUN_PROPERTY]


class DonkiReportsPlugin:
    """Hooks that copy scenario runs into JUnit properties and pytest-html rows."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def _html_active(self) -> bool:
        return bool(getattr(self.config.option, "htmlpath", None)) and self.config.pluginmanager.hasplugin("html")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Generator[None, Result[pytest.TestReport], None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if report.when == "setup":
            item.stash[STARTED] = call.start
        if report.when != "teardown":
            return
        runs = _runs(report)
        for data in runs:
            if not data.get("test_id"):
                data["test_id"] = item.nodeid
            if data.get("started") is None and STARTED in item.stash:
                data["started"] = datetime.fromtimestamp(item.stash[STARTED], UTC).isoformat(timespec="seconds")
            report.user_properties.extend(junit_properties(data))
        if runs and self._html_active():
            from pytest_html import extras

            added = [extra for data in runs for extra in html_extras(data, extras)]
            report.extras = [*getattr(report, "extras", []), *added]  # type: ignore[attr-defined]  # read by pytest-html


def register(config: pytest.Config) -> None:
    """Register the plugin once per session (called from ``pytest_configure``)."""
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(DonkiReportsPlugin(config), PLUGIN_NAME)
