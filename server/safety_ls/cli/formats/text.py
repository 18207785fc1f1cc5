"""Human-readable output: location, rule, message, the source line with a caret labelled with the severity."""

from __future__ import annotations

from safety_ls.cli.formats import summary
from safety_ls.cli.formats.paint import BOLD, SEVERITY_COLOURS, paint
from safety_ls.core.findings import FileResult

# A line longer than this (generated or minified code) is shown as a window around the finding,
# `...` where it is cut: printing all of it for each of its findings made the output grow with
# the square of the line (8,000 casts on one line: 35 s, a gigabyte of text).
LONG_LINE = 200
_AROUND = 60  # characters shown on each side of the finding in a long line
_CUT = "..."


def _expand_tabs(text: str, column: int) -> tuple[str, int]:
    """The line with tabs expanded, and the caret column moved accordingly."""
    prefix = text[: column - 1].expandtabs(4)
    return text.expandtabs(4), len(prefix) + 1


def _excerpt(line_text: str, column: int, end_column: int | None) -> tuple[str, int, int]:
    """The source line as shown, the caret's column and its width (to the end of the shown line
    for a finding that goes on below, when `end_column` is None)."""
    length = len(line_text) - (2 if line_text.endswith("\r\n") else 1 if line_text.endswith(("\n", "\r")) else 0)
    if length <= LONG_LINE:
        shown, caret_column = _expand_tabs(line_text[:length], column)
        if end_column is None:
            return shown, caret_column, max(1, len(shown) - caret_column + 1)
        return shown, caret_column, max(1, len(line_text[column - 1 : end_column - 1].expandtabs(4)))
    start = max(0, column - 1 - _AROUND)
    end = length if end_column is None else min(max(end_column - 1, column), length)
    stop = min(length, end + _AROUND, start + LONG_LINE)
    prefix = _CUT if start > 0 else ""
    window = prefix + line_text[start:stop] + (_CUT if stop < length else "")
    shown, caret_column = _expand_tabs(window, column - start + len(prefix))
    width = len(line_text[column - 1 : min(end, stop)].expandtabs(4)) if end_column is not None else stop - column + 1
    return shown, caret_column, max(1, width)


def render(results: list[FileResult], colour: bool, with_summary: bool = True) -> str:
    out: list[str] = []
    for result in sorted(results, key=lambda r: r.path):
        for d in result.diagnostics:
            severity_colour = SEVERITY_COLOURS[d.severity]
            location = paint(f"{d.path}:{d.line}:{d.column}:", BOLD, colour)
            rule = paint(d.rule, severity_colour + ";1", colour)
            out.append(f"{location} {rule} {d.message}")
            line_text = result.excerpts.get(d.line - 1)
            if line_text is not None:
                shown, caret_column, width = _excerpt(line_text, d.column, d.end_column if d.end_line == d.line else None)
                gutter = " " * len(str(d.line))
                label = paint("^" * width + " " + d.severity.value, severity_colour, colour)
                out.append(f"{gutter} |")
                out.append(f"{d.line} | {shown}")
                out.append(f"{gutter} | {' ' * (caret_column - 1)}{label}")
            else:
                out.append(f"  = {d.severity.value}")
            out.append("")
    if with_summary:
        out.extend(summary.render(results, colour))
    return "".join(line + "\n" for line in out)
