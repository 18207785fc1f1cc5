"""`// CAST: <from> → <to>, <reason>` on numeric `as` casts (candle-mi convention)."""

from __future__ import annotations

from typing import Iterator

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.placement import Annotation
from safety_ls.core.tags import CAST
from safety_ls.core.triggers import NUMERIC_CAST
from safety_ls.facts.allows import enclosing_allows
from safety_ls.facts.annotations import tag_fix, untagged_message, untagged_reason
from safety_ls.facts.casts import (
    cast_target,
    conversions,
    is_lossless,
    numeric_casts,
    operand_is_pointer,
    source_type,
)
from safety_ls.rules import Rule

MISSING_CAST = "missing-cast"


# clippy's lints against `as` casts: silencing one on an item is the decision CAST records.
_CAST_LINTS = ("as_conversions", "cast_")


def _cast_annotation(ctx: FileContext, unit: SyntaxUnit, cast: Node) -> Annotation | None:
    """The CAST comment for `cast`: above it or its statement, or above an enclosing item or
    statement whose `#[allow(clippy::as_conversions | clippy::cast_*)]` it explains (candle-mi
    writes one `// CAST:` above the allow on a function for the casts in its body)."""
    found = ctx.annotation(unit, cast, CAST)
    for owner, node, _, _ in enclosing_allows(unit, cast, _CAST_LINTS) if found is None else ():
        if (found := ctx.annotation(owner, node, CAST)) is not None:
            break
    return found


def _missing_cast(ctx: FileContext) -> Iterator[Finding]:
    lossy_only = ctx.settings.cast_policy == "lossy"
    for unit, cast, target in numeric_casts(ctx):
        value = cast.child_by_field_name("value")
        if value is not None and operand_is_pointer(unit, value):
            continue  # a pointer's address: not a numeric conversion, so no CAST to write
        if _cast_annotation(ctx, unit, cast) is None:
            source = source_type(ctx, unit, value) if value is not None else None
            if lossy_only and source is not None and is_lossless(source, target):
                continue  # `cast-policy = "lossy"`: a widening the source type proves exact
            if (untagged := untagged_reason(ctx, unit, cast, CAST)) is not None:
                fix = tag_fix(untagged, CAST, f"{source or '<from>'} → {target}, ")
                message = untagged_message(f"`as {target}` cast", CAST)
                yield Finding(MISSING_CAST, unit.start(cast), unit.end(cast), message, {"from": source, "to": target}, fix)
                continue
            yield Finding(
                MISSING_CAST,
                unit.start(cast),
                unit.end(cast),
                f"`as {target}` cast missing a `// CAST: {source or '<from>'} → {target}, <reason>` comment",
                {"from": source, "to": target},
                ctx.comment_fix(unit, cast, CAST, "cast.j2", {"conversions": _chain_conversions(ctx, unit, cast)}),
            )


def _chain_conversions(ctx: FileContext, unit: SyntaxUnit, cast: Node) -> list[dict[str, str | None]]:
    """The conversions of `x as A as B`, innermost first: the casts of one chain start at the same
    byte, so only one of them is reported, and its comment must name every step.

    Worked out once per chain: every cast of a chain of n asked for all n steps (quadratic)."""
    outermost = unit.highest(cast, "cast chain", _chain_top)
    key = (__name__, "conversions", outermost.id)
    if key not in unit.memo:
        chain = []
        current: Node | None = outermost
        while current is not None and current.type == "type_cast_expression":
            chain.append(current)
            current = current.child_by_field_name("value")
        conversions = []
        for step in reversed(chain):
            target, value = cast_target(unit, step), step.child_by_field_name("value")
            if target is not None and value is not None and not operand_is_pointer(unit, value):
                conversions.append({"from": source_type(ctx, unit, value), "to": target})
        unit.memo[key] = conversions
    return unit.memo[key]


def _chain_top(cast: Node, parent: Node | None) -> bool:
    return parent is None or parent.type != "type_cast_expression"


def _cast_mismatch(ctx: FileContext) -> Iterator[Finding]:
    for unit, cast, target in numeric_casts(ctx):
        annotation = _cast_annotation(ctx, unit, cast)
        if annotation is None:
            continue
        written = conversions(annotation.reason)
        if any(to == target and "<" in origin for origin, to in written):
            continue  # `<from> → target`: this cast's part of the template is unfilled (placeholder-annotation)
        pairs = [pair for pair in written if "<" not in "".join(pair)]
        if not pairs:
            if "<" in annotation.reason:
                continue  # an unfilled template: placeholder-annotation reports it
            yield Finding(
                "cast-annotation-mismatch",
                unit.start(cast),
                unit.end(cast),
                f"CAST comment does not name the conversion; write `// CAST: <from> → {target}, <reason>`",
                {"to": target},
            )
            continue
        value = cast.child_by_field_name("value")
        source = source_type(ctx, unit, value) if value is not None else None
        if any(to == target and (source is None or source == origin) for origin, to in pairs):
            continue
        written = ", ".join(f"{origin} → {to}" for origin, to in pairs)
        if not any(to == target for _, to in pairs):
            message = f"CAST comment says {written} but this cast is to `{target}`"
        else:
            message = f"CAST comment says {written} but the value cast here is `{source}`"
        yield Finding(
            "cast-annotation-mismatch",
            unit.start(cast),
            unit.end(cast),
            message,
            {"from": source, "to": target, "written": written},
        )


RULES = [
    Rule(
        id=MISSING_CAST,
        summary="numeric `as` cast without a `// CAST:` comment",
        explanation=(
            "An `as` cast between numeric types can truncate, wrap or lose precision silently. "
            "Prefer `From`/`TryFrom`; where `as` is intended, say so with "
            "`// CAST: <from> → <to>, <reason>` above the line or the statement."
        ),
        check=_missing_cast,
        fixable=True,
        sites=("cast",),
        trigger=NUMERIC_CAST,
        tag=CAST,
        example='let n = values.len() as u32; // no `// CAST: usize → u32, <reason>` above',
    ),
    Rule(
        id="cast-annotation-mismatch",
        summary="a `// CAST: A → B` whose types contradict the cast",
        explanation=(
            "The CAST comment names the conversion it justifies. When the cast's target type (or "
            "its source type, where the code states it) differs, the comment is stale."
        ),
        check=_cast_mismatch,
        sites=("cast",),
        trigger=NUMERIC_CAST,
        tag=CAST,
        example='// CAST: usize → u32, the count fits: at most 4096 tokens\nlet n = values.len() as u64;',
    ),
]
