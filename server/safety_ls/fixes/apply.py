"""Turning fixable diagnostics into text edits, and applying them without losing text.

Rules describe what a fix needs (`Finding.fix`, a typed request from
core/fix_requests.py: where to insert, which template, what to fill it with);
this module renders the templates and produces edits. The CLI and the language server both call it. Edits only
insert lines (or replace a site's own text), keep the file's line endings,
and leave a byte-order mark where it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from safety_ls.config.templates import Templates
from safety_ls.core.crate import CrateIndex
from safety_ls.core.findings import Diagnostic
from safety_ls.core.fix_requests import (
    AllocationRewrite,
    CommentInsertion,
    DocInsertion,
    DocLayout,
    DocSectionCompletion,
    TagInsertion,
    TemplateInsertion,
)
from safety_ls.core.parsing import parse
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze
from safety_ls.fixes.alloc_wrapper import (
    WrapperPlan,
    use_insertion,
    use_line,
    wrapper_context,
    wrapper_insertion,
)
from safety_ls.fixes.comment_wrap import wrap_comment
from safety_ls.fixes.rustfmt_pass import formatted_like_before
from safety_ls.fixes.rustfmt_width import max_width
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


def title_of(request: TemplateInsertion) -> str:
    """The code action's title for a request."""
    if isinstance(request, DocInsertion):
        return "Add a `# Safety` section"
    if isinstance(request, DocSectionCompletion):
        return "Add the missing `# Safety` sections"
    return request.title or f"Add a `// {request.tag}:` comment"


def _merge(requests: list[TemplateInsertion]) -> TemplateInsertion:
    """One comment for several sites that want the same one at the same place (casts on one line)."""
    first = requests[0]
    if not (isinstance(first, CommentInsertion) and first.template == "cast.j2"):
        return first
    conversions: list[dict[str, str | None]] = []
    for request in requests:
        for conversion in request.context["conversions"]:
            if conversion not in conversions:
                conversions.append(conversion)
    # Each distinct conversion once; `<from> → T` only where no known source names `T` already.
    named_targets = {conversion["to"] for conversion in conversions if conversion["from"]}
    conversions = [c for c in conversions if c["from"] or c["to"] not in named_targets]
    return replace(first, context={**first.context, "conversions": conversions})


def render_lines(request: TemplateInsertion, templates: Templates) -> list[str]:
    """The comment lines a request inserts, without indentation (hover shows them as they are)."""
    lines = templates.render(request.template, dict(request.context))
    if isinstance(request, DocInsertion) and request.after_docs:
        lines = ["///", *lines]
    if isinstance(request, (DocInsertion, DocSectionCompletion)):
        return _written_like(request.layout, lines)
    return lines


def _written_like(layout: DocLayout, lines: list[str]) -> list[str]:
    """Doc lines joined to docs as `layout` describes them: the code block they leave open closed
    first, and the text moved right to the docs' own indentation (templates indent it by one)."""
    closing = [f"/// {layout.open_fence}"] if layout.open_fence else []
    margin = " " * (layout.text_indent - 1)
    return [
        "///" + margin + line[3:] if line.startswith("///") and line[3:].strip() else line
        for line in closing + lines
    ]


def _render(request: TemplateInsertion, templates: Templates, newline: str, width: int) -> str:
    lines = [
        wrapped
        for line in render_lines(request, templates)
        for wrapped in wrap_comment(line, request.indent, width)
    ]
    return "".join(f"{request.indent}{line}".rstrip() + newline for line in lines)


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


_TRAILING_COMMENT = re.compile(rb"^\s*[^\s/].*[;}]\s*//")


def _follows_trailing_comment(source: SourceText, offset: int, indent: str) -> bool:
    """Whether the line above `offset` ends a statement with a `//` comment, or continues such a
    comment (a comment line indented deeper than the insertion, as rustfmt aligns them)."""
    line = source.line_of(offset)
    if line == 0:
        return False
    above = source.line_bytes(line - 1)
    body = above.lstrip()
    if body.startswith(b"//"):
        return len(above) - len(body) > len(indent.encode())
    return _TRAILING_COMMENT.match(above) is not None


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
    width = max_width(location.path if location is not None else None)
    grouped: dict[tuple[int, str], list[Diagnostic]] = {}
    allocations: list[tuple[Diagnostic, AllocationRewrite]] = []
    tags: dict[tuple[int, str], list[Diagnostic]] = {}  # a tag written into an existing comment
    for diagnostic in diagnostics:
        request = diagnostic.fix
        if not diagnostic.fixable or request is None:
            continue
        if isinstance(request, AllocationRewrite):
            allocations.append((diagnostic, request))
        elif isinstance(request, TagInsertion):
            tags.setdefault((request.offset, request.text), []).append(diagnostic)
        else:
            grouped.setdefault((request.offset, request.template), []).append(diagnostic)
    fixes = _allocation_fixes(source, allocations, templates, location, width) if location else []
    if fixes:
        # A block rewritten to the wrapper is no longer unsafe: it gets no SAFETY comment.
        rewritten = [(request.start, request.end) for _, request in allocations]
        for key, members in list(grouped.items()):
            members[:] = [
                member
                for member in members
                if member.rule != UNDOCUMENTED_UNSAFE_BLOCK
                or not any(start <= member.start < end for start, end in rewritten)
            ]
            if not members:
                del grouped[key]
    for (offset, _), members in sorted(grouped.items(), key=_insertion_order):
        request = _merge([member.fix for member in members if isinstance(member.fix, TemplateInsertion)])
        newline = _newline_at(source, offset)
        text = _render(request, templates, newline, width)
        if _follows_trailing_comment(source, offset, request.indent):
            # rustfmt would indent a comment line under the previous statement's trailing comment.
            text = newline + text
        fixes.append(Fix(members[0].rule, title_of(request), (Edit(offset, offset, text),), tuple(members)))
    for (offset, text), members in sorted(tags.items(), key=lambda item: item[0]):
        fixes.append(Fix(members[0].rule, members[0].fix.title, (Edit(offset, offset, text),), tuple(members)))  # type: ignore[union-attr]
    return fixes


def _insertion_order(group: tuple[tuple[int, str], list[Diagnostic]]) -> tuple[int, bool, str]:
    """Fixes by offset; at one offset, a completion of the comment above first: it continues that
    comment, where after a new comment inserted at the same line it would continue the new one."""
    (offset, template), members = group
    completes = any(isinstance(member.fix, CommentInsertion) and member.fix.title is not None for member in members)
    return offset, not completes, template


def _allocation_fixes(
    source: SourceText,
    allocations: list[tuple[Diagnostic, AllocationRewrite]],
    templates: Templates,
    location: FileLocation,
    width: int,
) -> list[Fix]:
    """Rewrite each unchecked allocation to its wrapper; add each wrapper (once) and the `use` it needs."""
    fixes = []
    newline = "\r\n" if source.uses_crlf else "\n"
    here = location.path.resolve()
    imported: set[str] = set()
    for diagnostic, request in allocations:
        target = request.wrapper
        if target is None:  # safe as written: the unsafe block goes, nothing is added
            edit = Edit(request.start, request.end, request.replacement)
            fixes.append(Fix(diagnostic.rule, "Remove the unneeded unsafe block", (edit,), (diagnostic,)))
            continue
        home = location.plan.home(location.crate_dir, location.path, target.name)
        replacement = request.replacement
        if request.in_macro:
            replacement = home.path_of(target.name, "$crate") + replacement.removeprefix(target.name)
        edits = [Edit(request.start, request.end, replacement)]
        if not home.exists:
            wrapper = "".join(
                line + "\n" for line in _wrapped(templates.render("alloc_wrapper.rs.j2", wrapper_context(target, width)), width)
            )
            if home.file == here:
                offset, text = wrapper_insertion(source.data, wrapper.replace("\n", newline), newline)
                edits.append(Edit(offset, offset, text))
            else:
                location.plan.pending.setdefault(home.file, []).append(wrapper)
            home.exists = True
        needs_use = home.file != here and not request.in_macro and target.name not in imported
        if needs_use and not re.search(rb"\buse\s[^;]*\b" + target.name.encode() + rb"\b", source.data):
            offset, text = use_insertion(source.data, use_line(home.path_of(target.name), target, newline), newline)
            edits.append(Edit(offset, offset, text))
            imported.add(target.name)
        fixes.append(Fix(diagnostic.rule, f"Use the checked `{target.name}` wrapper", tuple(edits), (diagnostic,)))
    return fixes


def _wrapped(lines: list[str], width: int) -> list[str]:
    """Code lines as they are; comment lines wrapped to `width` at their own indentation."""
    wrapped = []
    for line in lines:
        body = line.lstrip()
        indent = line[: len(line) - len(body)]
        wrapped.extend(indent + part for part in wrap_comment(body, indent, width))
    return wrapped


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
    if location is not None and any(isinstance(d.fix, AllocationRewrite) for fix in fixes for d in fix.diagnostics):
        # Rewritten code (not only inserted comments): let rustfmt lay it out, as the file was.
        fixed = formatted_like_before(raw, fixed, location.path, location.crate_dir)
    after = analyze(SourceText(fixed), path, settings, crate=crate, file=file)
    errors = _error_count(raw)
    if _error_count(fixed) > errors:
        # Never leave a file less parseable than it was: keep the original.
        warnings.append("fixes were not applied: the fixed text would not parse as cleanly as the original")
        return FixOutcome(raw, raw, [], result.diagnostics, warnings)
    if any(d.fixable for d in after.diagnostics):
        if errors:
            # tree-sitter's error recovery can read half-typed code differently once comments are
            # inserted near it (other sites, other items): a second run would insert again.
            warnings.append(
                "fixes were not applied: the comments would change how the code around the file's "
                "syntax errors parses; fix the syntax first"
            )
            return FixOutcome(raw, raw, [], result.diagnostics, warnings)
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
