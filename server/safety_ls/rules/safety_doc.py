"""`# Safety` doc sections on unsafe fns and traits (clippy `missing_safety_doc`)."""

from __future__ import annotations

import re
from typing import Iterator

from tree_sitter import Node

from ..context import FileContext
from ..diagnostics import Finding
from ..parsing import SyntaxUnit
from . import Rule

_DOC_ATTRIBUTE = re.compile(r'^#\[\s*doc\s*=\s*"((?:[^"\\]|\\.)*)"\s*\]$', re.S)
_HEADING = re.compile(r"^\s*#{1,6}\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_FFI_CALL = re.compile(
    r"\b(?:ffi|sys|libc|bindings|cuda_sys|driver::sys)::|\b(?:cu[A-Z]\w*|cublas\w*|cudnn\w*|nccl\w*|hip[A-Z]\w*)\s*\("
)

STRUCTURED_SECTIONS = ("Invariants", "Caller Responsibilities", "Justification")
FFI_SECTION = "Library Guarantees"


def doc_lines(unit: SyntaxUnit, item: Node) -> list[str]:
    """The item's outer doc comment lines (`///`, `/** */`, `#[doc = ".."]`), in order."""
    collected: list[list[str]] = []
    sibling = item.prev_named_sibling
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        text = unit.text(sibling)
        if sibling.type == "line_comment" and text.startswith("///") and not text.startswith("////"):
            collected.append([text[3:].rstrip("\r\n")])
        elif sibling.type == "block_comment" and text.startswith("/**") and not text.startswith("/***"):
            body = text[3:-2]
            collected.append([line.strip().lstrip("*") for line in body.splitlines()])
        elif sibling.type == "attribute_item":
            match = _DOC_ATTRIBUTE.match(text)
            if match:
                collected.append(match.group(1).encode().decode("unicode_escape", "replace").splitlines())
        sibling = sibling.prev_named_sibling
    lines: list[str] = []
    for chunk in reversed(collected):
        lines.extend(chunk)
    return lines


def headings(lines: list[str]) -> list[tuple[int, str]]:
    """(line index, heading text) of markdown headings outside code fences."""
    found = []
    in_fence = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        match = _HEADING.match(line)
        if match and not in_fence:
            found.append((index, match.group(1)))
    return found


def safety_section(lines: list[str]) -> list[str] | None:
    """The lines under a `# Safety` heading up to the next heading of its level or higher."""
    found = headings(lines)
    for position, (index, text) in enumerate(found):
        if text.strip().lower() == "safety":
            level = len(lines[index].lstrip()) - len(lines[index].lstrip().lstrip("#"))
            end = len(lines)
            for later_index, _ in found[position + 1 :]:
                later = lines[later_index].lstrip()
                if len(later) - len(later.lstrip("#")) <= level:
                    end = later_index
                    break
            return lines[index + 1 : end]
    return None


def _visibility(unit: SyntaxUnit, item: Node) -> str:
    for child in item.named_children:
        if child.type == "visibility_modifier":
            return unit.text(child).replace(" ", "")
    return ""


def _is_cfg_test(unit: SyntaxUnit, item: Node) -> bool:
    sibling = item.prev_named_sibling
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        if sibling.type == "attribute_item" and re.search(r"\bcfg\s*\(\s*test\s*\)", unit.text(sibling)):
            return True
        sibling = sibling.prev_named_sibling
    return False


def is_exported(ctx: FileContext, unit: SyntaxUnit, item: Node) -> bool:
    """Reachable from outside the crate, approximating rustc's effective visibility."""
    if unit.parent is not None:
        return False  # written inside a macro: clippy skips items from expansions
    name_node = item.child_by_field_name("name")
    name = unit.text(name_node) if name_node is not None else ""
    reexported = ctx.crate is not None and name in ctx.crate.reexported_names
    public = ctx.module_is_public
    if _is_cfg_test(unit, item):
        return False
    node = item
    parent = item.parent
    in_trait = False
    while parent is not None:
        if parent.type == "declaration_list":
            parent = parent.parent
            continue
        if parent.type == "trait_item":
            if _is_cfg_test(unit, parent) or _visibility(unit, parent) != "pub":
                return False
            in_trait = True
        elif parent.type == "impl_item":
            if parent.child_by_field_name("trait") is not None or _is_cfg_test(unit, parent):
                return False
        elif parent.type == "mod_item":
            if _is_cfg_test(unit, parent):
                return False
            if _visibility(unit, parent) != "pub":
                public = False
        elif parent.type != "source_file":
            return False  # inside a function body or another item
        node, parent = parent, parent.parent
    if not in_trait and _visibility(unit, item) != "pub":
        return False
    return public or reexported


def _unsafe_items(ctx: FileContext) -> Iterator[tuple[SyntaxUnit, Node, str]]:
    for unit, item in ctx.sites("unsafe_fn"):
        yield unit, item, "function"
    for unit, item in ctx.sites("unsafe_trait"):
        yield unit, item, "trait"


def _item_range(unit: SyntaxUnit, item: Node) -> tuple[int, int]:
    name = item.child_by_field_name("name")
    return unit.start(item), unit.end(name) if name is not None else unit.start(item) + 6


def _missing_safety_doc(ctx: FileContext) -> Iterator[Finding]:
    for unit, item, kind in _unsafe_items(ctx):
        if not is_exported(ctx, unit, item):
            continue
        if safety_section(doc_lines(unit, item)) is None:
            start, end = _item_range(unit, item)
            name = item.child_by_field_name("name")
            yield Finding(
                "missing-safety-doc",
                start,
                end,
                f"unsafe {kind} `{unit.text(name) if name else ''}` has no `# Safety` section in its docs",
                {"kind": kind},
            )


def _calls_ffi(unit: SyntaxUnit, item: Node) -> bool:
    body = item.child_by_field_name("body")
    return body is not None and bool(_FFI_CALL.search(unit.text(body)))


def _incomplete_safety_doc(ctx: FileContext) -> Iterator[Finding]:
    for unit, item, kind in _unsafe_items(ctx):
        section = safety_section(doc_lines(unit, item))
        if section is None:
            continue
        present = {text.strip().lower() for _, text in headings(section)}
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
        profiles=frozenset({"structured"}),
    ),
]
