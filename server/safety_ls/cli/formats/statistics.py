"""`check --statistics`: how many findings per rule (and how many `fix` can insert), then per file."""

from __future__ import annotations

import json

from safety_ls.cli.formats.sites import all_diagnostics
from safety_ls.cli.formats.summary import rule_counts
from safety_ls.core.findings import FileResult


def render(results: list[FileResult], as_json: bool) -> str:
    diagnostics = all_diagnostics(results)
    rules = rule_counts(diagnostics)
    files = sorted(((len(r.diagnostics), r.path) for r in results if r.diagnostics), key=lambda item: (-item[0], item[1]))
    if as_json:
        document = {
            "rules": [{"rule": rule, "severity": severity, "count": count, "fixable": fixable} for rule, count, fixable, severity in rules],
            "files": [{"path": path, "count": count} for count, path in files],
        }
        return json.dumps(document, indent=2) + "\n"
    if not rules:
        return f"No findings ({len(results)} file{'s' if len(results) != 1 else ''} checked).\n"
    width = max(len(rule) for rule, *_ in rules)
    lines = [f"{'count':>7}  {'fixable':>7}  {'rule':<{width}}  severity"]
    lines += [f"{count:>7}  {fixable:>7}  {rule:<{width}}  {severity}" for rule, count, fixable, severity in rules]
    total, fixable_total = len(diagnostics), sum(1 for d in diagnostics if d.fixable)
    lines.append(f"{total:>7}  {fixable_total:>7}  total in {len(files)} of {len(results)} files")
    lines.append("")
    lines.append(f"{'count':>7}  file")
    lines += [f"{count:>7}  {path}" for count, path in files]
    return "".join(line + "\n" for line in lines)
