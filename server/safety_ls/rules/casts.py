"""`// CAST: <from> → <to>, <reason>` on numeric `as` casts (candle-mi convention)."""

from __future__ import annotations

from typing import Iterator

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.tags import CAST
from safety_ls.core.triggers import NUMERIC_CAST
from safety_ls.facts.casts import cast_target, conversions, numeric_casts, operand_is_pointer, source_type
from safety_ls.rules import Rule


def _missing_cast(ctx: FileContext) -> Iterator[Finding]:
    for unit, cast, target in numeric_casts(ctx):
        value = cast.child_by_field_name("value")
        if value is not None and operand_is_pointer(unit, value):
            continue  # a pointer's address: not a numeric conversion, so no CAST to write
        if ctx.annotation(unit, cast, CAST) is None:
            source = source_type(ctx, unit, value) if value is not None else None
            yield Finding(
                "missing-cast",
                unit.start(cast),
                unit.end(cast),
                f"`as {target}` cast missing a `// CAST: {source or '<from>'} → {target}, <reason>` comment",
                {"from": source, "to": target},
                ctx.comment_fix(unit, cast, CAST, "cast.j2", {"conversions": _chain_conversions(ctx, unit, cast)}),
            )


def _chain_conversions(ctx: FileContext, unit: SyntaxUnit, cast: Node) -> list[dict[str, str | None]]:
    """The conversions of `x as A as B`, innermost first: the casts of one chain start at the same
    byte, so only one of them is reported, and its comment must name every step."""
    outermost = cast
    while (parent := unit.parent_of(outermost)) is not None and parent.type == "type_cast_expression":
        outermost = parent
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
    return conversions


def _cast_mismatch(ctx: FileContext) -> Iterator[Finding]:
    for unit, cast, target in numeric_casts(ctx):
        annotation = ctx.annotation(unit, cast, CAST)
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
        id="missing-cast",
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
    ),
]
