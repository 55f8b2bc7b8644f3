"""Reports of scenario runs: a terminal table, JSON and PNG plots."""

from harness.reporting.files import write_report
from harness.reporting.model import RunReport, StreamRow
from harness.reporting.table import render_line, render_run, render_table, verdict

__all__ = ["RunReport", "StreamRow", "render_line", "render_run", "render_table", "verdict", "write_report"]
