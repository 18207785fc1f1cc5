"""Human-readable output: location, rule, message, the source line with a caret labelled with the severity."""

from __future__ import annotations

from safety_ls.cli.formats import summary
from safety_ls.cli.formats.paint import BOLD, SEVERITY_COLOURS, paint
from safety_ls.core.findings import FileResult


def _expand_tabs(text: str, column: int) -> tuple[str, int]:
    """The line with tabs expanded, and the caret column moved accordingly."""
    prefix = text[: column - 1].expandtabs(4)
    return text.expandtabs(4), len(prefix) + 1


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
                shown, caret_column = _expand_tabs(line_text.rstrip("\r\n"), d.column)
                if d.end_line == d.line:
                    width = max(1, len(line_text[d.column - 1 : d.end_column - 1].expandtabs(4)))
                else:
                    width = max(1, len(shown) - caret_column + 1)
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
