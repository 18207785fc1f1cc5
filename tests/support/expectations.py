"""Expectations written next to the code they describe.

A fixture line ending in `//~ rule-id` (or `//~ rule-a, rule-b`) expects
those findings to start on that line; a line without a marker expects none.
"""

from __future__ import annotations

import re
from pathlib import Path

from safety_ls.config.loader import apply_clippy_toml
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze

MARKER = re.compile(r"//~\s*(?P<rules>[a-z][a-z-]*(?:\s*,\s*[a-z][a-z-]*)*)\s*$")


def expected(path: Path, rules: set[str]) -> set[tuple[int, str]]:
    found = set()
    text = path.read_bytes().decode("utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        match = MARKER.search(line)
        if match:
            for rule in match.group("rules").split(","):
                if rule.strip() in rules:
                    found.add((number, rule.strip()))
    return found


def without_markers(data: bytes) -> bytes:
    """The fixture with its `//~ ...` markers cut off, line numbers unchanged.

    For fixtures whose markers stand inside the comment under test (a marker
    on an annotation line would otherwise become part of its reason).
    """
    lines = data.decode("utf-8").splitlines(keepends=True)
    out = []
    for line in lines:
        body = line.rstrip("\r\n")
        match = MARKER.search(body)
        if match:
            body = body[: match.start()].rstrip()
        out.append(body + line[len(line.rstrip("\r\n")) :])
    return "".join(out).encode("utf-8")


def actual(
    path: Path, rules: set[str], settings: Settings | None = None, *, strip_markers: bool = False
) -> set[tuple[int, str]]:
    settings = settings or Settings(select=frozenset(rules))
    settings = apply_clippy_toml(settings, path.parent, explicit_placement=False)
    data = path.read_bytes()
    result = analyze(SourceText(without_markers(data) if strip_markers else data), path.name, settings)
    assert result.error is None
    return {(d.line, d.rule) for d in result.diagnostics if d.rule in rules}


def describe(path: Path, missing: set[tuple[int, str]], extra: set[tuple[int, str]]) -> str:
    lines = path.read_bytes().decode("utf-8").splitlines()
    report = []
    for title, items in (("expected but not reported", missing), ("reported but not expected", extra)):
        for number, rule in sorted(items):
            report.append(f"{title}: {path.name}:{number} {rule}: {lines[number - 1].strip()}")
    return "\n".join(report)
