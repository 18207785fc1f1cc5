"""The closing lines of the human formats: totals, counts per rule and per file, what `fix` can do.

On a tree with thousands of findings this is the part people read, so it says
where the findings are (the files with the most) and how many `safety-ls fix`
can take care of.
"""

from __future__ import annotations

from collections import Counter

from safety_ls.cli.formats.paint import BOLD, paint
from safety_ls.core.findings import Diagnostic, FileResult

FILES_SHOWN = 10


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def rule_counts(diagnostics: list[Diagnostic]) -> list[tuple[str, int, int, str]]:
    """(rule, findings, fixable findings, severity) per rule, most findings first."""
    found: Counter[str] = Counter(d.rule for d in diagnostics)
    fixable: Counter[str] = Counter(d.rule for d in diagnostics if d.fixable)
    severity = {d.rule: d.severity.value for d in diagnostics}
    return [(rule, count, fixable[rule], severity[rule]) for rule, count in sorted(found.items(), key=lambda item: (-item[1], item[0]))]


def render(results: list[FileResult], colour: bool) -> list[str]:
    diagnostics = [d for result in results for d in result.diagnostics]
    failed = sum(1 for result in results if result.error is not None)
    # Never "All checks passed" when a file was not checked.
    lines = [f"{_plural(failed, 'file')} could not be checked (see the errors); {len(results) - failed} checked."] if failed else []
    if not diagnostics:
        return lines or [f"All checks passed ({_plural(len(results), 'file')} checked)."]
    per_file = sorted(((len(r.diagnostics), r.path) for r in results if r.diagnostics), key=lambda item: (-item[0], item[1]))
    lines += [paint(f"Found {_plural(len(diagnostics), 'finding')} in {_plural(len(per_file), 'file')}.", BOLD, colour)]
    lines.append("By rule:")
    for rule, count, _, severity in rule_counts(diagnostics):
        lines.append(f"  {count:>6}  {rule} ({severity})")
    if len(per_file) > 1:
        lines.append("Files with the most findings:" if len(per_file) > FILES_SHOWN else "By file:")
        lines.extend(f"  {count:>6}  {path}" for count, path in per_file[:FILES_SHOWN])
        if len(per_file) > FILES_SHOWN:
            lines.append(f"  ... and {_plural(len(per_file) - FILES_SHOWN, 'more file')} (--statistics lists them all)")
    fixable = sum(1 for d in diagnostics if d.fixable)
    if fixable:
        lines.append(
            f"`safety-ls fix` can insert annotation templates for {fixable} of them "
            "(then fill in the reasons; `safety-ls fix --diff` shows the changes first)."
        )
    return lines
