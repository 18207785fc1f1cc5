"""`# Safety` doc sections on unsafe fns and traits (clippy `missing_safety_doc`)."""

from __future__ import annotations

import re
from typing import Iterator

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding
from safety_ls.core.fix_requests import DocInsertion, DocLayout, DocSectionCompletion
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.triggers import UNSAFE
from safety_ls.facts.safety_docs import (
    doc_lines,
    headings,
    located_doc_lines,
    open_code_fence,
    safety_section,
    safety_section_bounds,
    shared_indent,
)
from safety_ls.rules import Rule

MISSING_SAFETY_DOC = "missing-safety-doc"

_FFI_CALL = re.compile(
    r"\b(?:ffi|sys|libc|bindings|cuda_sys|driver::sys)::|\b(?:cu[A-Z]\w*|cublas\w*|cudnn\w*|nccl\w*|hip[A-Z]\w*)\s*\("
)

STRUCTURED_SECTIONS = ("Invariants", "Caller Responsibilities", "Justification")
FFI_SECTION = "Library Guarantees"


def _visibility(unit: SyntaxUnit, item: Node) -> str:
    for child in item.named_children:
        if child.type == "visibility_modifier":
            return unit.text(child).replace(" ", "")
    return ""


def _has_attribute(unit: SyntaxUnit, item: Node, pattern: re.Pattern[str]) -> bool:
    sibling = unit.previous_named_sibling(item)
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        if sibling.type == "attribute_item" and pattern.search(unit.text(sibling)):
            return True
        sibling = unit.previous_named_sibling(sibling)
    return False


_CFG_TEST = re.compile(r"\bcfg\s*\(\s*test\s*\)")
_DOC_HIDDEN = re.compile(r"\bdoc\s*\(\s*hidden\s*\)")


def is_compiled(unit: SyntaxUnit, item: Node) -> bool:
    """False under `#[cfg(test)]`, which a plain clippy run does not compile.

    An item in a local macro_rules! body counts: clippy lints it at the
    definition once the macro is expanded, and a macro that is never expanded
    is rare (rustc warns about it).
    """
    if _has_attribute(unit, item, _CFG_TEST):
        return False
    return not any(_has_attribute(owner, node, _CFG_TEST) for owner, node in unit.ancestors(item))


def _hidden(unit: SyntaxUnit, item: Node) -> bool:
    """`#[doc(hidden)]` on the item or anywhere up its module path (clippy skips those, #7347)."""
    if _has_attribute(unit, item, _DOC_HIDDEN):
        return True
    return any(
        node.type in ("mod_item", "impl_item", "trait_item") and _has_attribute(owner, node, _DOC_HIDDEN)
        for owner, node in unit.ancestors(item)
    )


def is_exported(ctx: FileContext, unit: SyntaxUnit, item: Node) -> bool:
    """Reachable from outside the crate, approximating rustc's effective visibility.

    An item is exported when it is `pub` in a chain of `pub` modules from the
    crate root, or when a `pub use` names it or globs its module. Trait
    methods follow their trait; inherent methods need a `pub` method of an
    exported type.
    """
    if _hidden(unit, item):
        return False
    if unit.in_macro_definition:
        # Where the macro expands is not known here; a `pub` item is taken to be exported.
        return _visibility(unit, item) == "pub"
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


def _defining_macro(unit: SyntaxUnit) -> str | None:
    """The name of the macro_rules! whose body `unit` was parsed from."""
    while unit.anchor is not None and unit.parent is not None:
        if unit.anchor.type == "macro_rule":
            definition = unit.parent.parent_of(unit.anchor)
            name = definition.child_by_field_name("name") if definition is not None else None
            return unit.parent.text(name) if name is not None else None
        unit = unit.parent
    return None


def _is_expanded(ctx: FileContext, unit: SyntaxUnit) -> bool:
    """Whether the macro_rules! holding `unit` is invoked in this file or its crate: clippy
    lints items in a macro body only where the macro expands."""
    name = _defining_macro(unit)
    if name is None:
        return True
    invocation = re.compile(rb"\b" + re.escape(name.encode()) + rb"\s*!\s*[({\[]")
    if invocation.search(ctx.source.data):
        return True
    for path in ctx.crate.module_paths if ctx.crate is not None else ():
        try:
            if invocation.search(path.read_bytes()):
                ctx.dependencies.add(str(path))
                return True
        except OSError:
            continue
    return False


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


def _layout(lines: list[str], end: int) -> DocLayout:
    """How lines added to an item's doc `lines` after `lines[end - 1]` must be written."""
    return DocLayout(open_code_fence(lines[:end]), max(shared_indent(lines), 1))


def _doc_fix(ctx: FileContext, unit: SyntaxUnit, item: Node, kind: str) -> DocInsertion | None:
    """Append a `# Safety` section to the item's docs, or start its docs with one."""
    if unit.parent is not None:
        return None  # in a macro: the docs are not ours to place
    located = located_doc_lines(unit, item)
    context = {"kind": kind, "ffi": _calls_ffi(unit, item)}
    if located:
        offset = _line_start_after(ctx, located[-1][1])
    else:
        first = item
        sibling = unit.previous_named_sibling(item)
        while sibling is not None and sibling.type == "attribute_item":
            first, sibling = sibling, unit.previous_named_sibling(sibling)
        offset = ctx.source.line_starts[ctx.source.line_of(unit.start(first))]
    if not _docs_of_item_at(ctx, unit, item, offset):
        return None
    layout = _layout([text for text, _ in located], len(located))
    return DocInsertion(offset, _indent_of(ctx, unit, item), "safety_doc.j2", context, bool(located), layout)


def _docs_of_item_at(ctx: FileContext, unit: SyntaxUnit, item: Node, offset: int) -> bool:
    """Whether doc lines inserted at `offset` (a line start) would be the item's docs: only
    whitespace, comments and attributes between them and the item. Not so for an item that starts
    after other code on its line (half-typed code) or on the line a doc block ends."""
    first = item
    for sibling in unit.preceding_siblings(item):
        if unit.start(sibling) < offset:
            break
        if sibling.type not in ("attribute_item", "line_comment", "block_comment"):
            return False
        first = sibling
    return unit.start(item) >= offset and not ctx.source.data[offset : unit.start(first)].strip()


def _missing_safety_doc(ctx: FileContext) -> Iterator[Finding]:
    for unit, item, kind in _unsafe_items(ctx):
        # clippy checks every unsafe trait, but only exported unsafe functions.
        name = item.child_by_field_name("name")
        if name is None or name.is_missing or not unit.text(name).strip():
            continue  # half-typed: no name yet, so nothing to report it under or to attach docs to
        if not is_compiled(unit, item) or (kind == "function" and not is_exported(ctx, unit, item)):
            continue
        if unit.in_macro_definition and not _is_expanded(ctx, unit):
            continue
        if safety_section(doc_lines(unit, item)) is None:
            start, end = _item_range(unit, item)
            yield Finding(
                "missing-safety-doc",
                start,
                end,
                f"unsafe {kind} `{unit.text(name) if name else ''}` has no `# Safety` section in its docs",
                {"kind": kind},
                _doc_fix(ctx, unit, item, kind),
            )


def _calls_ffi(unit: SyntaxUnit, item: Node) -> bool:
    body = item.child_by_field_name("body")
    return body is not None and bool(_FFI_CALL.search(unit.text(body)))


def _sections_fix(ctx: FileContext, unit: SyntaxUnit, item: Node, missing: list[str]) -> DocSectionCompletion | None:
    """Append the missing `## Section`s at the end of the `# Safety` section."""
    located = located_doc_lines(unit, item)
    lines = [text for text, _ in located]
    bounds = safety_section_bounds(lines)
    if unit.parent is not None or bounds is None:
        return None
    if any(index == bounds[0] and level > 1 for index, level, _ in headings(lines)):
        return None  # `## Safety`: added `## Section`s would be its siblings, not its parts; no fix would stick
    # After the section's last written line, so a blank `///` before the next heading stays there.
    last_index = next(
        (index for index in range(bounds[1] - 1, bounds[0] - 1, -1) if located[index][0].strip()), bounds[0]
    )
    last = located[last_index][1]
    layout = _layout(lines, last_index + 1)
    return DocSectionCompletion(_line_start_after(ctx, last), _indent_of(ctx, unit, item), tuple(missing), layout=layout)


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
                {"kind": kind, "missing": missing},
                _sections_fix(ctx, unit, item, missing),
            )


RULES = [
    Rule(
        id=MISSING_SAFETY_DOC,
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
        example='/// Reads `n` floats from `ptr`.   (no `# Safety` section)\npub unsafe fn read_floats(ptr: *const f32, n: usize) -> Vec<f32> { /* ... */ }',
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
        example='/// # Safety\n/// `ptr` must be valid for `n` reads.   (no `## Invariants`, `## Caller Responsibilities`, `## Justification`)\npub unsafe fn read_floats(ptr: *const f32, n: usize) -> Vec<f32> { /* ... */ }',
    ),
]
