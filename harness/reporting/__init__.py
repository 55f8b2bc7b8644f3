"""Reports of scenario runs: a terminal table, schema-versioned JSON, one figure per run, comparisons."""

from harness.reporting.files import read_report, render_directory, report_files, write_report
from harness.reporting.model import SCHEMA, RunReport, StreamRow, package_versions
from harness.reporting.table import render_line, render_run, render_table, verdict

__all__ = ["SCHEMA", "RunReport", "StreamRow", "package_versions", "read_report", "render_directory", "render_line",
           "render_run", "render_table", "report_files", "verdict", "write_report"]
