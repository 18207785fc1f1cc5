"""`check --write-baseline FILE` and `check --baseline FILE`: fail only on findings that are new.

A large codebase adopts safety-ls by recording today's findings once; later
runs hide the recorded ones. Findings are matched by fingerprint
(core/fingerprints.py: rule, file, the text of the flagged line and its
neighbours, an occurrence index), never by line number, so an entry
survives lines inserted above it. File paths are stored relative to the
baseline file, so the check can run from any directory.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from safety_ls.core.files import write_text
from safety_ls.core.fingerprints import (
    Fingerprint,
    fingerprint_sites,
    match,
    normalized,
)
from safety_ls.engine.analyze import FileResult

BASELINE_VERSION = 1


class BaselineError(Exception):
    pass


def _relative(display: str, directory: Path) -> str:
    if display == "-":
        return display  # stdin without --stdin-filename
    return Path(os.path.relpath(os.path.abspath(display), directory)).as_posix()


def _entries(results: list[FileResult], directory: Path) -> list[tuple[FileResult, int, dict[str, Any]]]:
    """(result, index of its diagnostic, baseline entry) for every finding."""
    found = []
    for result in results:
        path = _relative(result.path, directory)
        prints = fingerprint_sites(path, [(d.rule, d.line - 1) for d in result.diagnostics], result.excerpts.get)
        for index, (diagnostic, fingerprint) in enumerate(zip(result.diagnostics, prints)):
            entry = {
                "rule": diagnostic.rule,
                "path": path,
                "line": diagnostic.line,
                "text": normalized(result.excerpts.get(diagnostic.line - 1, "")),
                "fingerprint": fingerprint.exact,
                "line_fingerprint": fingerprint.line,
            }
            found.append((result, index, entry))
    return found


def write(path: Path, results: list[FileResult]) -> int:
    """Record every finding of `results` in `path` (atomically); returns how many."""
    directory = path.resolve().parent
    entries = sorted((entry for _, _, entry in _entries(results, directory)), key=lambda e: (e["path"], e["line"], e["rule"]))
    lines = ",\n    ".join(json.dumps(entry, ensure_ascii=False) for entry in entries)
    text = f'{{\n  "version": {BASELINE_VERSION},\n  "findings": [' + (f"\n    {lines}\n  " if entries else "") + "]\n}\n"
    try:
        write_text(path, text, root=None)  # the path the user named; a symlink there is replaced
    except OSError as error:
        raise BaselineError(f"{path}: cannot write the baseline: {error.strerror or error}") from None
    return len(entries)


def read(path: Path) -> list[Fingerprint]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"{path}: cannot read the baseline: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BaselineError(f"{path}: the baseline is not JSON ({error}); write it with --write-baseline") from None
    findings = document.get("findings") if isinstance(document, dict) else None
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION or not isinstance(findings, list):
        raise BaselineError(f"{path}: not a safety-ls baseline (version {BASELINE_VERSION}); write it with --write-baseline")
    prints = []
    for number, entry in enumerate(findings, start=1):
        if not (isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str) and isinstance(entry.get("line_fingerprint"), str)):
            raise BaselineError(f"{path}: finding {number} lacks `fingerprint` and `line_fingerprint`")
        prints.append(Fingerprint(entry["fingerprint"], entry["line_fingerprint"]))
    return prints


def without_known(path: Path, results: list[FileResult]) -> tuple[list[FileResult], int, int]:
    """`results` less the findings recorded in the baseline `path`; also how many were hidden, and how
    many recorded findings matched nothing (fixed since, or their code removed)."""
    recorded = read(path)
    current = _entries(results, path.resolve().parent)
    pairs = match([Fingerprint(e["fingerprint"], e["line_fingerprint"]) for _, _, e in current], recorded)
    known = {(id(current[index][0]), current[index][1]) for index in pairs}
    kept = [
        replace(result, diagnostics=[d for index, d in enumerate(result.diagnostics) if (id(result), index) not in known])
        for result in results
    ]
    return kept, len(pairs), len(recorded) - len(pairs)


def apply(results: list[FileResult], *, read_from: Path | None, write_to: Path | None) -> tuple[list[FileResult], str]:
    """The results to report under `--baseline` / `--write-baseline`, and a line saying what the baseline did."""
    if write_to is not None:
        recorded = write(write_to, results)
        return [replace(result, diagnostics=[]) for result in results], f"baseline {write_to}: recorded {recorded} finding(s)"
    assert read_from is not None
    kept, known, stale = without_known(read_from, results)
    note = f"baseline {read_from}: {known} known finding(s) not shown"
    return kept, note + (f"; {stale} recorded finding(s) no longer occur" if stale else "")
