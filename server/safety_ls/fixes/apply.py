"""Turning fixable diagnostics into text edits, and applying them without losing text.

Rules describe what a fix needs (`Finding.data["fix"]`: where to insert,
which template, what to fill it with); this module renders the templates and
produces edits. The CLI and the language server both call it. Edits only
insert lines (or replace a site's own text), keep the file's line endings,
and leave a byte-order mark where it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from safety_ls.config.templates import Templates
from safety_ls.core.crate import CrateIndex
from safety_ls.core.findings import Diagnostic
from safety_ls.core.parsing import parse
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze
from safety_ls.fixes.alloc_wrapper import (
    WrapperPlan,
    use_insertion_offset,
    wrapper_context,
)
from safety_ls.rules.unsafe_code import UNDOCUMENTED_UNSAFE_BLOCK


@dataclass(frozen=True)
class Edit:
    start: int  # byte offsets into the file as read
    end: int
    text: str


@dataclass(frozen=True)
class Fix:
    rule: str
    title: str
    edits: tuple[Edit, ...]
    diagnostics: tuple[Diagnostic, ...]


_TITLES = {
    "safety_doc.j2": "Add a `# Safety` section",
    "safety_doc_sections.j2": "Add the missing `# Safety` sections",
    "cast.j2": "Add a `// CAST:` comment",
    "promote.j2": "Add a `// PROMOTE:` comment",
    "contiguous.j2": "Add a `// CONTIGUOUS:` comment",
}


def _title(request: dict[str, Any]) -> str:
    if "title" in request:
        return request["title"]
    template = request["template"]
    if template in _TITLES:
        return _TITLES[template]
    if template.startswith("safety_"):
        return "Add a `// SAFETY:` comment"
    return f"Add a `// {template.removesuffix('.j2').upper()}:` comment"


def _merge(requests: list[dict[str, Any]]) -> dict[str, Any]:
    """One comment for several sites that want the same one at the same place (casts on one line)."""
    first = dict(requests[0])
    if first["template"] == "cast.j2":
        conversions: list[dict[str, Any]] = []
        for request in requests:
            for conversion in request["context"]["conversions"]:
                if conversion not in conversions:
                    conversions.append(conversion)
        first["context"] = {**first["context"], "conversions": conversions}
    return first


def _render(request: dict[str, Any], templates: Templates, newline: str) -> str:
    indent = request["indent"]
    lines = list(request.get("prefix", [])) + templates.render(request["template"], request["context"])
    return "".join(f"{indent}{line}".rstrip() + newline for line in lines)


def _newline_at(source: SourceText, offset: int) -> str:
    """The line ending of the line an insertion lands on, so mixed files stay as they were."""
    line = source.line_of(min(offset, max(len(source.data) - 1, 0)))
    start, end = source.line_bounds(line)
    following = source.data[end : end + 2]
    if following.startswith(b"\r\n"):
        return "\r\n"
    if following.startswith(b"\n"):
        return "\n"
    return "\r\n" if source.uses_crlf else "\n"


@dataclass(frozen=True)
class FileLocation:
    """Where the file being fixed lives, for fixes that reach beyond it (the allocation wrapper)."""

    path: Path
    crate_dir: Path | None
    plan: WrapperPlan


def build_fixes(
    source: SourceText,
    diagnostics: Iterable[Diagnostic],
    templates: Templates,
    location: FileLocation | None = None,
) -> list[Fix]:
    """One fix per insertion point (diagnostics sharing one are fixed by one comment)."""
    grouped: dict[tuple[int, str], list[Diagnostic]] = {}
    allocations: list[Diagnostic] = []
    tags: dict[tuple[int, str], list[Diagnostic]] = {}  # a tag written into an existing comment
    for diagnostic in diagnostics:
        request = diagnostic.data.get("fix")
        if not (diagnostic.fixable and request):
            continue
        if request["kind"] == "alloc-wrapper":
            allocations.append(diagnostic)
        elif request["kind"] == "text":
            tags.setdefault((request["offset"], request["text"]), []).append(diagnostic)
        else:
            grouped.setdefault((request["offset"], request["template"]), []).append(diagnostic)
    fixes = _allocation_fixes(source, allocations, templates, location) if location else []
    if fixes:
        # A block rewritten to the wrapper is no longer unsafe: it gets no SAFETY comment.
        rewritten = [(d.data["fix"]["start"], d.data["fix"]["end"]) for d in allocations]
        for key, members in list(grouped.items()):
            members[:] = [
                member
                for member in members
                if member.rule != UNDOCUMENTED_UNSAFE_BLOCK
                or not any(start <= member.start < end for start, end in rewritten)
            ]
            if not members:
                del grouped[key]
    for (offset, _), members in sorted(grouped.items(), key=lambda item: item[0]):
        request = _merge([member.data["fix"] for member in members])
        text = _render(request, templates, _newline_at(source, offset))
        fixes.append(Fix(members[0].rule, _title(request), (Edit(offset, offset, text),), tuple(members)))
    for (offset, text), members in sorted(tags.items(), key=lambda item: item[0]):
        fixes.append(Fix(members[0].rule, members[0].data["fix"]["title"], (Edit(offset, offset, text),), tuple(members)))
    return fixes


def _allocation_fixes(
    source: SourceText, allocations: list[Diagnostic], templates: Templates, location: FileLocation
) -> list[Fix]:
    """Rewrite each unchecked allocation to the wrapper; add the wrapper (once) and the `use` it needs."""
    fixes = []
    newline = "\r\n" if source.uses_crlf else "\n"
    here = location.path.resolve()
    imported: set[str] = set()
    for diagnostic in allocations:
        request = diagnostic.data["fix"]
        edits = [Edit(request["start"], request["end"], request["replacement"])]
        home = location.plan.home(location.crate_dir, location.path, request["form"])
        name = request["name"]
        if not home.exists:
            wrapper = "".join(
                line + newline for line in templates.render("alloc_wrapper.rs.j2", wrapper_context(source.data, request["form"]))
            )
            if home.file == here:
                separator = "" if source.data.endswith(b"\n") or not source.data else newline
                edits.append(Edit(len(source.data), len(source.data), separator + wrapper))
            else:
                location.plan.pending.setdefault(home.file, []).append(wrapper)
            home.exists = True
        if home.file != here and name not in imported and not re.search(
            rb"\buse\s[^;]*\b" + name.encode() + rb"\b", source.data
        ):
            path = "::".join(("crate",) + home.module + (name,))
            offset = use_insertion_offset(source.data)
            edits.append(Edit(offset, offset, f"use {path};{newline}"))
            imported.add(name)
        fixes.append(Fix(diagnostic.rule, f"Use the checked `{name}` wrapper", tuple(edits), (diagnostic,)))
    return fixes


def apply_edits(raw: bytes, edits: Iterable[Edit]) -> bytes:
    """`raw` with the edits applied; edits at one offset keep their order, overlapping ones are skipped."""
    ordered = sorted(edits, key=lambda edit: (edit.start, edit.end))
    pieces: list[bytes] = []
    position = 0
    for edit in ordered:
        if edit.start < position:
            continue  # overlaps an edit already applied
        pieces.append(raw[position : edit.start])
        pieces.append(edit.text.encode("utf-8"))
        position = edit.end
    pieces.append(raw[position:])
    return b"".join(pieces)


@dataclass
class FixOutcome:
    original: bytes
    fixed: bytes
    applied: list[Fix]
    remaining: list[Diagnostic]  # what the fixed text still reports (placeholders included)
    warnings: list[str]


def fix_source(
    raw: bytes,
    path: str,
    settings: "Settings",
    templates: Templates,
    *,
    crate: "CrateIndex | None" = None,
    file: Path | None = None,
    location: FileLocation | None = None,
) -> FixOutcome:
    """Every available fix applied to one file's text, then checked again.

    Raises SourceError for text that cannot be analysed (not UTF-8).
    """
    source = SourceText(raw)
    result = analyze(source, path, settings, crate=crate, file=file)
    fixes = build_fixes(source, result.diagnostics, templates, location)
    warnings = list(result.warnings)
    if not fixes:
        return FixOutcome(raw, raw, [], result.diagnostics, warnings)
    fixed = apply_edits(raw, [edit for fix in fixes for edit in fix.edits])
    after = analyze(SourceText(fixed), path, settings, crate=crate, file=file)
    if _error_count(fixed) > _error_count(raw):
        # Never leave a file less parseable than it was: keep the original.
        warnings.append("fixes were not applied: the fixed text would not parse as cleanly as the original")
        return FixOutcome(raw, raw, [], result.diagnostics, warnings)
    if any(d.fixable for d in after.diagnostics):
        warnings.append("some fixes did not take effect; run `safety-ls check` to see the sites left")
    return FixOutcome(raw, fixed, fixes, after.diagnostics, warnings)


def _error_count(data: bytes) -> int:
    """How many syntax errors tree-sitter finds (ERROR and MISSING nodes)."""
    tree = parse(SourceText(data).data)
    if not tree.root_node.has_error:
        return 0
    count, cursor = 0, tree.walk()
    visiting = True
    while True:
        node = cursor.node
        if visiting and node is not None:
            if node.is_error or node.is_missing:
                count += 1
            if node.has_error and cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visiting = True
            continue
        if not cursor.goto_parent():
            return count
        visiting = False
