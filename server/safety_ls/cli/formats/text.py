"""Human-readable output: location, rule, message, the source line with a caret."""

from __future__ import annotations

from collections import Counter

from safety_ls.core.findings import Severity
from safety_ls.engine.analyze import FileResult

_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36", Severity.HINT: "36"}


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def _expand_tabs(text: str, column: int) -> tuple[str, int]:
    """The line with tabs expanded, and the caret column moved accordingly."""
    prefix = text[: column - 1].expandtabs(4)
    return text.expandtabs(4), len(prefix) + 1


def render(results: list[FileResult], colour: bool) -> str:
    out: list[str] = []
    counts: Counter[str] = Counter()
    files_with_findings = 0
    for result in sorted(results, key=lambda r: r.path):
        if result.diagnostics:
            files_with_findings += 1
        for d in result.diagnostics:
            counts[d.rule] += 1
            location = _paint(f"{d.path}:{d.line}:{d.column}:", "1", colour)
            rule = _paint(d.rule, _COLOURS[d.severity] + ";1", colour)
            out.append(f"{location} {rule} {d.message}")
            line_text = result.excerpts.get(d.line - 1)
            if line_text is not None:
                shown, caret_column = _expand_tabs(line_text.rstrip("\r\n"), d.column)
                width = 1
                if d.end_line == d.line:
                    width = max(1, len(line_text[d.column - 1 : d.end_column - 1].expandtabs(4)))
                else:
                    width = max(1, len(shown) - caret_column + 1)
                gutter = " " * len(str(d.line))
                out.append(f"{gutter} |")
                out.append(f"{d.line} | {shown}")
                out.append(f"{gutter} | {' ' * (caret_column - 1)}{_paint('^' * width, _COLOURS[d.severity], colour)}")
            out.append("")
    total = sum(counts.values())
    failed = sum(1 for result in results if result.error is not None)
    if failed:  # never "All checks passed" when a file was not checked
        checked = len(results) - failed
        out.append(f"{failed} file{'s' if failed != 1 else ''} could not be checked (see the errors); {checked} checked.")
    if total:
        noun = "finding" if total == 1 else "findings"
        files = "file" if files_with_findings == 1 else "files"
        out.append(_paint(f"Found {total} {noun} in {files_with_findings} {files}.", "1", colour))
        for rule, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            out.append(f"  {count:>5}  {rule}")
    elif not failed:
        checked = len(results)
        out.append(f"All checks passed ({checked} file{'s' if checked != 1 else ''} checked).")
    return "\n".join(out) + "\n"
