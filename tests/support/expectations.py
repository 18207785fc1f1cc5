"""Expectations written next to the code they describe.

A fixture line ending in `//~ rule-id` (or `//~ rule-a, rule-b`) expects
those findings to start on that line; a line without a marker expects none.
Placement fixtures also run under clippy.toml variants and may scope a marker
to some of them (`//~[no_stmt] rule-id`); markers.py defines the syntax.
"""

from __future__ import annotations

from pathlib import Path

from markers import DEFAULT_VARIANT, expected_counts
from markers import without_markers as line_without_markers
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze


def expected(path: Path, rules: set[str], variant: str = DEFAULT_VARIANT) -> set[tuple[int, str]]:
    counts = expected_counts(path.read_bytes().decode("utf-8"), variant)
    return {(number, rule) for number, rule in counts if rule in rules}


def without_markers(data: bytes) -> bytes:
    """The fixture with its `//~ ...` markers cut off, line numbers unchanged.

    For fixtures whose markers stand inside the comment under test (a marker
    on an annotation line would otherwise become part of its reason).
    """
    lines = data.decode("utf-8").splitlines(keepends=True)
    out = []
    for line in lines:
        body = line.rstrip("\r\n")
        out.append(line_without_markers(body) + line[len(body) :])
    return "".join(out).encode("utf-8")


def actual(
    path: Path, rules: set[str], settings: Settings | None = None, *, strip_markers: bool = False
) -> set[tuple[int, str]]:
    settings = settings or Settings(select=frozenset(rules))
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
