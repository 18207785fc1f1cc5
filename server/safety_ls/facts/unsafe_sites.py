"""What an unsafe site is and does, read from its syntax: shared by the SAFETY rules, fixes and the audit."""

from __future__ import annotations

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.parsing import SyntaxUnit, walk_remembered
from safety_ls.core.placement import Annotation
from safety_ls.core.source import SourceText
from safety_ls.core.tags import SAFETY
from safety_ls.facts.categories import Category, categorize_block

CATEGORY_PREFIX_BYTES = 4096


def opening_text(unit: SyntaxUnit, node: Node) -> str:
    # What a block does shows in its first lines; reading all of a huge (or deeply nested) block
    # for every site would make nesting quadratic.
    return unit.data[node.start_byte : min(node.end_byte, node.start_byte + CATEGORY_PREFIX_BYTES)].decode(
        "utf-8", "replace"
    )


def file_opening_text(source: SourceText, unit: SyntaxUnit, node: Node) -> str:
    """`opening_text` read from the file: in a macro_rules! body, `$x` as written rather than `_x`."""
    start = unit.start(node)
    return source.data[start : min(unit.end(node), start + CATEGORY_PREFIX_BYTES)].decode("utf-8", "replace")


def code_category(unit: SyntaxUnit, node: Node) -> Category:
    """What an unsafe block (or an unsafe fn's body) does: the template's and the audit's category."""
    return categorize_block(opening_text(unit, node))


def impl_trait_name(unit: SyntaxUnit, impl: Node) -> tuple[str, str]:
    trait = impl.child_by_field_name("trait")
    target = impl.child_by_field_name("type")
    trait_name = unit.text(trait).split("::")[-1].split("<")[0].strip() if trait is not None else ""
    type_name = unit.text(target) if target is not None else ""
    return trait_name, type_name


def paired_send_sync_impl(unit: SyntaxUnit, impl: Node) -> Node | None:
    """The `unsafe impl Send/Sync` for the same type directly before this Send/Sync impl, if any.

    `// SAFETY: ..` / `unsafe impl Send for T {}` / `unsafe impl Sync for T {}` is the usual
    pair; comments between the two (a trailing one on the first line) do not break it.
    """
    trait_name, type_text = impl_trait_name(unit, impl)
    if trait_name not in ("Send", "Sync"):
        return None
    previous = unit.previous_named_sibling(impl)
    while previous is not None and previous.type in ("line_comment", "block_comment"):
        previous = unit.previous_named_sibling(previous)
    if previous is None or previous.type != "impl_item" or not unit.text(previous).startswith("unsafe"):
        return None
    previous_trait, previous_type = impl_trait_name(unit, previous)
    return previous if previous_trait in ("Send", "Sync") and previous_type == type_text else None


def paired_safety_comment(ctx: FileContext, unit: SyntaxUnit, impl: Node) -> Annotation | None:
    """The SAFETY comment over the Send/Sync impl this one pairs with, or over the one that pairs
    with that, and so on back. Remembered for every impl passed: a run of n impls for one type
    walked back over all the others from each (quadratic, and recursing overflowed the stack)."""

    def back(current: Node) -> tuple[Node | None, Annotation | None]:
        previous = paired_send_sync_impl(unit, current)
        found = ctx.annotation(unit, previous, SAFETY) if previous is not None else None
        return (previous if found is None else None), found

    known: dict[int, Annotation | None] = unit.memo.setdefault((__name__, "paired"), {})
    return walk_remembered(known, impl, lambda current: current.id, back)
