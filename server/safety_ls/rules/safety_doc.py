"""`# Safety` doc sections on unsafe fns and traits (clippy `missing_safety_doc`)."""

from __future__ import annotations

import re
from typing import Any, Iterator

from tree_sitter import Node

from ..context import FileContext
from ..diagnostics import Finding
from ..parsing import SyntaxUnit
from ..triggers import UNSAFE
from . import Rule

_DOC_ATTRIBUTE = re.compile(r'^#\[\s*doc\s*=\s*"((?:[^"\\]|\\.)*)"\s*\]$', re.S)
_HEADING = re.compile(r"^\s*#{1,6}(?:\s+(.*?))?\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_FFI_CALL = re.compile(
    r"\b(?:ffi|sys|libc|bindings|cuda_sys|driver::sys)::|\b(?:cu[A-Z]\w*|cublas\w*|cudnn\w*|nccl\w*|hip[A-Z]\w*)\s*\("
)

STRUCTURED_SECTIONS = ("Invariants", "Caller Responsibilities", "Justification")
FFI_SECTION = "Library Guarantees"


def located_doc_lines(unit: SyntaxUnit, item: Node) -> list[tuple[str, int]]:
    """The item's outer doc lines (`///`, `/** */`, `#[doc = ".."]`) in order, with the file
    offset each one ends at (a block or attribute's lines all end where it ends)."""
    collected: list[list[tuple[str, int]]] = []
    sibling = item.prev_named_sibling
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        text = unit.text(sibling)
        end = unit.end(sibling)
        if sibling.type == "line_comment" and text.startswith("///") and not text.startswith("////"):
            collected.append([(text[3:].rstrip("\r\n"), end)])
        elif sibling.type == "block_comment" and text.startswith("/**") and not text.startswith("/***"):
            body = text[3:-2]
            collected.append([(line.strip().lstrip("*"), end) for line in body.splitlines()])
        elif sibling.type == "attribute_item":
            match = _DOC_ATTRIBUTE.match(text)
            if match:
                decoded = match.group(1).encode().decode("unicode_escape", "replace")
                collected.append([(line, end) for line in decoded.splitlines()])
        sibling = sibling.prev_named_sibling
    lines: list[tuple[str, int]] = []
    for chunk in reversed(collected):
        lines.extend(chunk)
    return lines


def doc_lines(unit: SyntaxUnit, item: Node) -> list[str]:
    """The item's outer doc comment lines, in order."""
    return [text for text, _ in located_doc_lines(unit, item)]


def _unindent(lines: list[str]) -> list[str]:
    """Remove the indentation all non-blank lines share, as rustdoc does."""
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    common = min(indents, default=0)
    return [line[common:] for line in lines]


_CONTAINER_PREFIX = re.compile(r"^(?:>\s?|[-*+]\s+|\d+[.)]\s+)+")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")


def _heading_text(text: str) -> str:
    """A heading's text as rendered: closing #s, emphasis and spaces removed."""
    text = re.sub(r"\s+#+\s*$", "", text.strip()).strip()
    emphasis = re.fullmatch(r"(\*{1,3}|_{1,3})(.+?)\1", text)
    return emphasis.group(2).strip() if emphasis else text


def headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, text) of markdown headings outside code fences."""
    found = []
    in_fence = False
    lines = _unindent(lines)
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        body = _CONTAINER_PREFIX.sub("", line.strip()) if line.strip()[:1] in (">", "-", "*", "+") or line.strip()[:1].isdigit() else line
        match = _HEADING.match(body)
        if match and len(body) - len(body.lstrip()) < 4:
            level = len(body.lstrip()) - len(body.lstrip().lstrip("#"))
            found.append((index, level, _heading_text(match.group(1))))
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        underline = _SETEXT_UNDERLINE.match(following)
        if underline and line.strip() and not _FENCE.match(line):
            found.append((index, 1 if underline.group(1)[0] == "=" else 2, _heading_text(line)))
    return found


def safety_section_bounds(lines: list[str]) -> tuple[int, int] | None:
    """Line indexes of a `# Safety` (or `# SAFETY`) heading and of the end of its section
    (the next heading of its level or higher, or the end of the docs)."""
    found = headings(lines)
    for position, (index, level, text) in enumerate(found):
        if text in ("Safety", "SAFETY"):
            end = next((later for later, later_level, _ in found[position + 1 :] if later_level <= level), len(lines))
            return index, end
    return None


def safety_section(lines: list[str]) -> list[str] | None:
    """The lines under a `# Safety` heading, up to the next heading of its level or higher."""
    bounds = safety_section_bounds(lines)
    return None if bounds is None else lines[bounds[0] + 1 : bounds[1]]


def _visibility(unit: SyntaxUnit, item: Node) -> str:
    for child in item.named_children:
        if child.type == "visibility_modifier":
            return unit.text(child).replace(" ", "")
    return ""


def _has_attribute(unit: SyntaxUnit, item: Node, pattern: re.Pattern[str]) -> bool:
    sibling = item.prev_named_sibling
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        if sibling.type == "attribute_item" and pattern.search(unit.text(sibling)):
            return True
        sibling = sibling.prev_named_sibling
    return False


_CFG_TEST = re.compile(r"\bcfg\s*\(\s*test\s*\)")
_DOC_HIDDEN = re.compile(r"\bdoc\s*\(\s*hidden\s*\)")


def is_compiled(unit: SyntaxUnit, item: Node) -> bool:
    """False under `#[cfg(test)]` (a plain clippy run does not compile it) or in a macro_rules! body."""
    if unit.in_macro_definition or _has_attribute(unit, item, _CFG_TEST):
        return False
    return not any(_has_attribute(owner, node, _CFG_TEST) for owner, node in unit.ancestors(item))


def is_exported(ctx: FileContext, unit: SyntaxUnit, item: Node) -> bool:
    """Reachable from outside the crate, approximating rustc's effective visibility.

    An item is exported when it is `pub` in a chain of `pub` modules from the
    crate root, or when a `pub use` names it or globs its module. Trait
    methods follow their trait; inherent methods need a `pub` method of an
    exported type.
    """
    if _has_attribute(unit, item, _DOC_HIDDEN):
        return False
    named, named_unit = item, unit
    owner_type: str | None = None
    inline_modules: list[str] = []
    public = ctx.module_is_public
    for owner, parent in unit.ancestors(item):
        kind = parent.type
        if kind == "trait_item":
            named, named_unit = parent, owner
        elif kind == "impl_item":
            if parent.child_by_field_name("trait") is not None:
                return False
            target = parent.child_by_field_name("type")
            owner_type = owner.text(target).split("<")[0].strip() if target is not None else None
            if owner_type and ctx.struct_is_public(owner_type) is False:
                return False
        elif kind == "mod_item":
            name = parent.child_by_field_name("name")
            inline_modules.insert(0, owner.text(name) if name is not None else "")
            public = public and _visibility(owner, parent) == "pub"
        elif kind in ("function_item", "closure_expression", "const_item", "static_item"):
            return False  # local to a function body or an initialiser
        elif kind == "block" and owner.parent is None:
            return False  # a block outside any macro: local items
        # Other kinds seen here are macro containers such as cfg_if!'s `if #[cfg] { .. }`.
    if _visibility(named_unit, named) != "pub":
        return False
    module = ctx.module_path + tuple(inline_modules)
    if owner_type is not None:  # a method: reached through its type
        return public or ctx.is_reexported(module, owner_type)
    name_node = named.child_by_field_name("name")
    return public or (name_node is not None and ctx.is_reexported(module, named_unit.text(name_node)))


def _unsafe_items(ctx: FileContext) -> Iterator[tuple[SyntaxUnit, Node, str]]:
    for unit, item in ctx.sites("unsafe_fn"):
        yield unit, item, "function"
    for unit, item in ctx.sites("unsafe_trait"):
        yield unit, item, "trait"


def _item_range(unit: SyntaxUnit, item: Node) -> tuple[int, int]:
    name = item.child_by_field_name("name")
    return unit.start(item), unit.end(name) if name is not None else unit.start(item) + 6


def _line_start_after(ctx: FileContext, offset: int) -> int:
    line = ctx.source.line_of(max(offset - 1, 0))
    return ctx.source.line_starts[line + 1] if line + 1 < ctx.source.line_count else len(ctx.source.data)


def _indent_of(ctx: FileContext, unit: SyntaxUnit, item: Node) -> str:
    text = ctx.source.line_bytes(ctx.source.line_of(unit.start(item)))
    return text[: len(text) - len(text.lstrip())].decode("utf-8", "replace")


def _doc_fix(ctx: FileContext, unit: SyntaxUnit, item: Node, kind: str) -> dict[str, Any] | None:
    """Append a `# Safety` section to the item's docs, or start its docs with one."""
    if unit.parent is not None:
        return None  # in a macro: the docs are not ours to place
    located = located_doc_lines(unit, item)
    context = {"kind": kind, "ffi": _calls_ffi(unit, item)}
    if located:
        offset = _line_start_after(ctx, located[-1][1])
        prefix = ["///"]
    else:
        first = item
        sibling = item.prev_named_sibling
        while sibling is not None and sibling.type == "attribute_item":
            first, sibling = sibling, sibling.prev_named_sibling
        offset, prefix = ctx.source.line_starts[ctx.source.line_of(unit.start(first))], []
    indent = _indent_of(ctx, unit, item)
    return {"kind": "insert", "offset": offset, "indent": indent, "template": "safety_doc.j2", "context": context, "prefix": prefix}


def _missing_safety_doc(ctx: FileContext) -> Iterator[Finding]:
    for unit, item, kind in _unsafe_items(ctx):
        # clippy checks every unsafe trait, but only exported unsafe functions.
        if not is_compiled(unit, item) or (kind == "function" and not is_exported(ctx, unit, item)):
            continue
        if safety_section(doc_lines(unit, item)) is None:
            start, end = _item_range(unit, item)
            name = item.child_by_field_name("name")
            yield Finding(
                "missing-safety-doc",
                start,
                end,
                f"unsafe {kind} `{unit.text(name) if name else ''}` has no `# Safety` section in its docs",
                {"kind": kind, "fix": _doc_fix(ctx, unit, item, kind)},
            )


def _calls_ffi(unit: SyntaxUnit, item: Node) -> bool:
    body = item.child_by_field_name("body")
    return body is not None and bool(_FFI_CALL.search(unit.text(body)))


def _sections_fix(ctx: FileContext, unit: SyntaxUnit, item: Node, missing: list[str]) -> dict[str, Any] | None:
    """Append the missing `## Section`s at the end of the `# Safety` section."""
    located = located_doc_lines(unit, item)
    bounds = safety_section_bounds([text for text, _ in located])
    if unit.parent is not None or bounds is None:
        return None
    # After the section's last written line, so a blank `///` before the next heading stays there.
    last_index = next(
        (index for index in range(bounds[1] - 1, bounds[0] - 1, -1) if located[index][0].strip()), bounds[0]
    )
    last = located[last_index][1]
    return {
        "kind": "insert",
        "offset": _line_start_after(ctx, last),
        "indent": _indent_of(ctx, unit, item),
        "template": "safety_doc_sections.j2",
        "context": {"missing": missing},
    }


def _incomplete_safety_doc(ctx: FileContext) -> Iterator[Finding]:
    for unit, item, kind in _unsafe_items(ctx):
        section = safety_section(doc_lines(unit, item))
        if section is None:
            continue
        present = {text.strip().lower() for _, _, text in headings(section)}
        present |= {
            match.group(1).strip().lower()
            for line in section
            if (match := re.match(r"^\s*\*\*([^*]+)\*\*:?\s*$|^\s*([A-Z][A-Za-z ]+):\s*$", line)) and match.group(1)
        }
        required = list(STRUCTURED_SECTIONS)
        if _calls_ffi(unit, item):
            required.append(FFI_SECTION)
        missing = [section for section in required if not any(name.startswith(section.lower()) for name in present)]
        if missing:
            start, end = _item_range(unit, item)
            yield Finding(
                "incomplete-safety-doc",
                start,
                end,
                "`# Safety` section lacks " + ", ".join(f"`## {name}`" for name in missing),
                {"kind": kind, "missing": missing, "fix": _sections_fix(ctx, unit, item, missing)},
            )


RULES = [
    Rule(
        id="missing-safety-doc",
        summary="exported `unsafe fn` / `unsafe trait` without a `# Safety` doc section",
        explanation=(
            "Callers of a public unsafe function (or implementers of a public unsafe trait) need "
            "to know what they must guarantee. Add a `# Safety` heading to its doc comment listing "
            "those conditions. Like clippy::missing_safety_doc, only items reachable from outside "
            "the crate are checked."
        ),
        check=_missing_safety_doc,
        fixable=True,
        sites=("unsafe_fn", "unsafe_trait"),
        trigger=UNSAFE,
        clippy_lint="missing_safety_doc",
    ),
    Rule(
        id="incomplete-safety-doc",
        summary="`# Safety` section lacking the sections the structured profile requires",
        explanation=(
            "The mistral.rs template documents an unsafe function with `## Invariants`, "
            "`## Caller Responsibilities`, `## Justification` and, when it calls into FFI, "
            "`## Library Guarantees` (what the external library promises, with its version)."
        ),
        check=_incomplete_safety_doc,
        fixable=True,
        sites=("unsafe_fn", "unsafe_trait"),
        trigger=UNSAFE,
        profiles=frozenset({"structured"}),
    ),
]
