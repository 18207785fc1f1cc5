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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from safety_ls.core.files import write_text
from safety_ls.core.findings import FileResult
from safety_ls.core.fingerprints import (
    Fingerprint,
    fingerprint_sites,
    match,
    normalized,
)

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


@dataclass(frozen=True)
class Recorded:
    """One finding of a baseline: the file it was in (relative to the baseline) and its fingerprint."""

    path: str
    fingerprint: Fingerprint


def read(path: Path) -> list[Recorded]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"{path}: cannot read the baseline: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BaselineError(f"{path}: the baseline is not JSON ({error}); write it with --write-baseline") from None
    findings = document.get("findings") if isinstance(document, dict) else None
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION or not isinstance(findings, list):
        raise BaselineError(f"{path}: not a safety-ls baseline (version {BASELINE_VERSION}); write it with --write-baseline")
    recorded = []
    for number, entry in enumerate(findings, start=1):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and isinstance(entry.get("fingerprint"), str)
            and isinstance(entry.get("line_fingerprint"), str)
        ):
            raise BaselineError(f"{path}: finding {number} lacks `path`, `fingerprint` or `line_fingerprint`")
        recorded.append(Recorded(entry["path"], Fingerprint(entry["fingerprint"], entry["line_fingerprint"])))
    return recorded


@dataclass(frozen=True)
class Comparison:
    """What a baseline did to one run's results."""

    kept: list[FileResult]  # the results less the recorded findings
    hidden: int  # findings not shown because the baseline records them
    stale: int  # recorded findings, in the files checked, that no longer occur
    checked_all: bool  # whether every file the baseline names was checked


def without_known(path: Path, results: list[FileResult]) -> Comparison:
    """`results` less the findings recorded in the baseline `path`.

    Only the recorded findings of the files that were checked take part: a run on
    a few files (pre-commit passes the staged ones) says nothing about the others.
    """
    directory = path.resolve().parent
    checked = {_relative(result.path, directory) for result in results}
    everything = read(path)
    recorded = [entry.fingerprint for entry in everything if entry.path in checked]
    current = _entries(results, directory)
    pairs = match([Fingerprint(e["fingerprint"], e["line_fingerprint"]) for _, _, e in current], recorded)
    known = {(id(current[index][0]), current[index][1]) for index in pairs}
    kept = [
        replace(result, diagnostics=[d for index, d in enumerate(result.diagnostics) if (id(result), index) not in known])
        for result in results
    ]
    checked_all = all(entry.path in checked for entry in everything)
    return Comparison(kept, len(pairs), len(recorded) - len(pairs), checked_all)


def _findings(count: int, kind: str = "") -> str:
    noun = "finding" if count == 1 else "findings"
    return f"{count} {kind} {noun}" if kind else f"{count} {noun}"


def apply(results: list[FileResult], *, read_from: Path | None, write_to: Path | None) -> tuple[list[FileResult], str]:
    """The results to report under `--baseline` / `--write-baseline`, and a line saying what the baseline did."""
    if write_to is not None:
        recorded = write(write_to, results)
        files = sum(1 for result in results if result.diagnostics)
        note = f"recorded {_findings(recorded)} from {files} of {len(results)} checked file(s) in {write_to}"
        return [replace(result, diagnostics=[]) for result in results], note
    assert read_from is not None
    outcome = without_known(read_from, results)
    scope = "" if outcome.checked_all else f" in the {len(results)} checked file(s)"
    note = f"baseline {read_from}: {_findings(outcome.hidden, 'known')}{scope} not shown"
    if outcome.stale:
        verb = "occurs" if outcome.stale == 1 else "occur"
        note += f"; {_findings(outcome.stale, 'recorded')}{scope} no longer {verb} (--write-baseline drops them)"
    return outcome.kept, note
