"""What several report formats need: the diagnostics in report order, and a stable id per site."""

from __future__ import annotations

from typing import Iterable

from safety_ls.core.findings import Diagnostic, FileResult
from safety_ls.core.fingerprints import fingerprint_sites


def all_diagnostics(results: Iterable[FileResult]) -> list[Diagnostic]:
    return sorted((d for result in results for d in result.diagnostics), key=Diagnostic.sort_key)


def fingerprints(result: FileResult) -> dict[int, str]:
    """A stable id per diagnostic: its rule, path and source text, not its line number (core/fingerprints.py)."""
    found = fingerprint_sites(result.path, [(d.rule, d.line - 1) for d in result.diagnostics], result.excerpts.get)
    return {id(diagnostic): found[index].exact for index, diagnostic in enumerate(result.diagnostics)}
