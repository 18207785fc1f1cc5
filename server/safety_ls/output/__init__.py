"""Report formats for `safety-ls check`: each renders results to a string."""

from __future__ import annotations

import hashlib
from typing import Iterable

from ..diagnostics import Diagnostic
from ..engine import FileResult

FORMATS = ("text", "json", "sarif", "github")


def all_diagnostics(results: Iterable[FileResult]) -> list[Diagnostic]:
    return sorted((d for result in results for d in result.diagnostics), key=Diagnostic.sort_key)


def fingerprints(result: FileResult) -> dict[int, str]:
    """A stable id per diagnostic from its rule, path and source text, not its line number.

    Identical sites in one file are told apart by their order, so inserting
    lines above a site keeps its fingerprint.
    """
    seen: dict[tuple[str, str], int] = {}
    found = {}
    for diagnostic in result.diagnostics:
        text = " ".join(result.excerpts.get(diagnostic.line - 1, "").split())
        key = (diagnostic.rule, text)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        digest = hashlib.sha256(f"{diagnostic.rule}|{result.path}|{text}|{occurrence}".encode()).hexdigest()
        found[id(diagnostic)] = digest[:32]
    return found
