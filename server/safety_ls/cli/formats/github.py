"""GitHub Actions workflow commands: one `::warning file=..::message` line per finding."""

from __future__ import annotations

from safety_ls.cli.formats.sites import all_diagnostics
from safety_ls.core.findings import FileResult, Severity

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice", Severity.HINT: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(results: list[FileResult]) -> str:
    lines = []
    for d in all_diagnostics(results):
        properties = ",".join(
            [
                f"file={_escape_property(d.path)}",
                f"line={d.line}",
                f"col={d.column}",
                f"endLine={d.end_line}",
                f"endColumn={d.end_column}",
                f"title={_escape_property('safety-ls ' + d.rule)}",
            ]
        )
        lines.append(f"::{_COMMAND[d.severity]} {properties}::{_escape_data(d.rule + ': ' + d.message)}")
    return "".join(line + "\n" for line in lines)
