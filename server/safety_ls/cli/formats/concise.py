"""One line per finding, `path:line:col: rule message`, for big trees, grep and editors' quickfix lists."""

from __future__ import annotations

from safety_ls.cli.formats import summary
from safety_ls.cli.formats.paint import BOLD, SEVERITY_COLOURS, paint
from safety_ls.cli.formats.sites import all_diagnostics
from safety_ls.core.findings import FileResult


def render(results: list[FileResult], colour: bool, with_summary: bool = True) -> str:
    lines = [
        f"{paint(f'{d.path}:{d.line}:{d.column}:', BOLD, colour)} {paint(d.rule, SEVERITY_COLOURS[d.severity], colour)} {d.message}"
        for d in all_diagnostics(results)
    ]
    if with_summary:
        lines.extend(([""] if lines else []) + summary.render(results, colour))
    return "".join(line + "\n" for line in lines)
