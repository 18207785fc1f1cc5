"""The Grit profile's extra tags (candle-mi): TRAIT_OBJECT, EXHAUSTIVE, BORROW, INDEX."""

from __future__ import annotations

import re
from typing import Callable, Iterator

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.triggers import BORROW_METHODS, BRACKET, DYN, EXHAUSTIVE_ALLOW
from safety_ls.facts.allows import enclosing_allows
from safety_ls.facts.dtype import method_calls
from safety_ls.rules import Rule

GRIT = frozenset({"grit"})
_EXHAUSTIVE_ALLOW = re.compile(r"\b(allow|expect)\s*\([^)]*clippy\s*::\s*exhaustive_enums")


# The clippy lint whose `#[allow]` already records the decision a grit tag asks for.
_MATCHING_LINT = {"INDEX": ("indexing_slicing",)}


def _reasoned(ctx: FileContext, unit: SyntaxUnit, first: Node, attribute: Node) -> bool:
    """The allow gives its reason: `reason = ".."`, a trailing comment, or a comment right above the attributes."""
    if re.search(r"\breason\s*=", unit.text(attribute)):
        return True
    trailing = ctx.source.line_text(ctx.source.line_of(unit.end(attribute))).split("]")[-1]
    if "//" in trailing:
        return True
    above = unit.previous_named_sibling(first)
    return above is not None and above.type in ("line_comment", "block_comment") and (
        ctx.source.line_of(unit.end(above) - 1) + 1 >= ctx.source.line_of(unit.start(first))
    )


def _allowed_with_reason(ctx: FileContext, unit: SyntaxUnit, site: Node, tag: str) -> bool:
    """An enclosing item or statement carries the matching clippy `#[allow]`, with a reason."""
    lints = _MATCHING_LINT.get(tag)
    return lints is not None and any(
        _reasoned(ctx, owner, first, attribute) for owner, _, first, attribute in enclosing_allows(unit, site, lints)
    )


def _require(
    ctx: FileContext, rule_id: str, tag: str, sites: Iterator[tuple[SyntaxUnit, Node]], message: Callable[[SyntaxUnit, Node], str]
) -> Iterator[Finding]:
    for unit, site in sites:
        if ctx.annotation(unit, site, tag) is None and not _allowed_with_reason(ctx, unit, site, tag):
            fix = ctx.comment_fix(unit, site, tag, f"{tag.lower()}.j2", {})
            yield Finding(rule_id, unit.start(site), unit.end(site), message(unit, site), {"tag": tag}, fix)


def _trait_objects(ctx: FileContext) -> Iterator[Finding]:
    return _require(
        ctx,
        "missing-trait-object",
        "TRAIT_OBJECT",
        ctx.sites("dyn_type"),
        lambda unit, node: f"`{unit.text(node)}` missing a `// TRAIT_OBJECT: <reason>` comment",
    )


def _trailing_tag(ctx: FileContext, unit: SyntaxUnit, node: Node, tag: str) -> bool:
    line = ctx.source.line_of(unit.end(node))
    return f"// {tag}:" in ctx.source.line_text(line)


def _exhaustive(ctx: FileContext) -> Iterator[Finding]:
    allows = (
        (unit, attribute)
        for unit, attribute in ctx.sites("attribute")
        if _EXHAUSTIVE_ALLOW.search(unit.text(attribute)) and not _trailing_tag(ctx, unit, attribute, "EXHAUSTIVE")
    )
    return _require(
        ctx,
        "missing-exhaustive",
        "EXHAUSTIVE",
        allows,
        lambda unit, node: "`allow(clippy::exhaustive_enums)` missing an `// EXHAUSTIVE: <reason>` comment",
    )


def _borrows(ctx: FileContext) -> Iterator[Finding]:
    calls = ((unit, name) for unit, _, name in method_calls(ctx, ("as_str", "as_bytes", "to_owned")))
    return _require(
        ctx,
        "missing-borrow",
        "BORROW",
        calls,
        lambda unit, node: f"explicit `.{unit.text(node)}()` missing a `// BORROW: <what is converted>` comment",
    )


def _indexes(ctx: FileContext) -> Iterator[Finding]:
    def may_panic(unit: SyntaxUnit, node: Node) -> bool:
        if not node.named_child_count:
            return False
        index = node.named_child(node.named_child_count - 1)
        return index is not None and unit.text(index).strip() != ".."

    indexes = ((unit, node) for unit, node in ctx.sites("index") if may_panic(unit, node))
    return _require(
        ctx,
        "missing-index",
        "INDEX",
        indexes,
        lambda unit, node: f"direct index `{unit.text(node)}` missing an `// INDEX: <reason>` comment",
    )


RULES = [
    Rule(
        id="missing-trait-object",
        summary="`dyn Trait` without a `// TRAIT_OBJECT:` comment (grit profile)",
        explanation="Grit asks why dynamic dispatch is needed wherever `Box<dyn Trait>` or `&dyn Trait` appears.",
        check=_trait_objects,
        fixable=True,
        sites=("dyn_type",),
        trigger=DYN,
        tag="TRAIT_OBJECT",
        profiles=GRIT,
        example='fn run(hook: &dyn Fn(usize)) {} // no `// TRAIT_OBJECT:` above',
    ),
    Rule(
        id="missing-exhaustive",
        summary="`allow(clippy::exhaustive_enums)` without an `// EXHAUSTIVE:` comment (grit profile)",
        explanation="An enum exempted from `#[non_exhaustive]` must say why the crate owns all its variants.",
        check=_exhaustive,
        fixable=True,
        sites=("attribute",),
        trigger=EXHAUSTIVE_ALLOW,
        tag="EXHAUSTIVE",
        profiles=GRIT,
        example='#[allow(clippy::exhaustive_enums)] // no `// EXHAUSTIVE:` above\npub enum Device { Cpu, Cuda }',
    ),
    Rule(
        id="missing-borrow",
        summary="explicit `.as_str()`, `.as_bytes()`, `.to_owned()` without a `// BORROW:` comment (grit profile)",
        explanation="Grit rule 2: explicit conversions where Deref coercion would apply say what they convert.",
        check=_borrows,
        fixable=True,
        sites=("method_name",),
        methods=("as_str", "as_bytes", "to_owned"),
        trigger=BORROW_METHODS,
        tag="BORROW",
        profiles=GRIT,
        example='let name = path.as_str().to_owned(); // no `// BORROW:` above',
    ),
    Rule(
        id="missing-index",
        summary="direct slice index without an `// INDEX:` comment (grit profile)",
        explanation="Direct indexing panics when out of bounds; say why the bound holds, or use `.get()`.",
        check=_indexes,
        fixable=True,
        sites=("index",),
        trigger=BRACKET,
        tag="INDEX",
        profiles=GRIT,
        example='let first = tokens[0]; // no `// INDEX:` above',
    ),
]
