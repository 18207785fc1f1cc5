"""`// PROMOTE:` on dtype promotions and `// CONTIGUOUS:` on layout copies before a matmul."""

from __future__ import annotations

import re
from typing import Iterator

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.tags import CONTIGUOUS, PROMOTE
from safety_ls.core.triggers import CONTIGUOUS_CALL, TO_DTYPE_CALL
from safety_ls.facts.annotations import tag_fix, untagged_message, untagged_reason
from safety_ls.facts.dtype import PASSES_VALUE, call_range, layout_copies, promotions
from safety_ls.rules import Rule

MISSING_PROMOTE = "missing-promote"
MISSING_CONTIGUOUS = "missing-contiguous"


def _missing_promote(ctx: FileContext) -> Iterator[Finding]:
    for unit, call, name, target in promotions(ctx):
        if ctx.annotation(unit, call, PROMOTE, unit.start(name)) is None:
            start, end = call_range(unit, call, name)
            if (untagged := untagged_reason(ctx, unit, call, PROMOTE, unit.start(name))) is not None:
                message = untagged_message(f"promotion to {target}", PROMOTE)
                yield Finding(MISSING_PROMOTE, start, end, message, {"target": target}, tag_fix(untagged, PROMOTE))
                continue
            yield Finding(
                "missing-promote",
                start,
                end,
                f"promotion to {target} missing a `// PROMOTE: <reason>` comment",
                {"target": target},
                ctx.comment_fix(
                    unit, call, PROMOTE, "promote.j2", {"target": target, "hint": _promotion_context(unit, call)},
                    unit.start(name),
                ),
            )


_PROMOTION_HINTS = ("softmax", "log", "exp", "norm", "sqrt", "matmul", "sum", "mean", "to_vec1", "to_vec2", "cumsum")
_PROMOTION_HINT = re.compile(r"\b(" + "|".join(_PROMOTION_HINTS) + r")\w*\s*[(:<]")


def _promotion_context(unit: SyntaxUnit, call: Node) -> str | None:
    """The numerically sensitive operation the promoted value feeds, if the statement shows one:
    the first of `_PROMOTION_HINTS` that the statement names after the call."""
    last_use = _last_hint_uses(unit, unit.highest(call, "statement", _is_statement))
    return next((hint for hint in _PROMOTION_HINTS if last_use.get(hint, -1) >= call.end_byte), None)


def _is_statement(node: Node, parent: Node | None) -> bool:
    return parent is None or node.type in ("let_declaration", "expression_statement")


def _last_hint_uses(unit: SyntaxUnit, statement: Node) -> dict[str, int]:
    """Where each hint is last named in `statement`, found once per statement: every promotion of a
    long chain asks about the same statement."""
    known: dict[int, dict[str, int]] = unit.memo.setdefault((__name__, "hints"), {})
    if statement.id not in known:
        text = unit.data[statement.start_byte : statement.end_byte]
        known[statement.id] = {
            match.group(1): statement.start_byte + match.start()
            for match in _PROMOTION_HINT.finditer(text.decode("utf-8", errors="replace"))
        }
    return known[statement.id]


def _missing_contiguous(ctx: FileContext) -> Iterator[Finding]:
    for unit, call, name in layout_copies(ctx):
        if ctx.annotation(unit, call, CONTIGUOUS, unit.start(name)) is None:
            start, end = call_range(unit, call, name)
            if (untagged := untagged_reason(ctx, unit, call, CONTIGUOUS, unit.start(name))) is not None:
                message = untagged_message("`.contiguous()` before a matmul", CONTIGUOUS)
                yield Finding(MISSING_CONTIGUOUS, start, end, message, {}, tag_fix(untagged, CONTIGUOUS))
                continue
            yield Finding(
                "missing-contiguous",
                start,
                end,
                "`.contiguous()` before a matmul missing a `// CONTIGUOUS: <reason>` comment",
                {},
                ctx.comment_fix(
                    unit, call, CONTIGUOUS, "contiguous.j2", {"cause": _stride_cause(unit, call)}, unit.start(name)
                ),
            )


_STRIDE_CAUSES = ("transpose", "permute", "narrow", "t", "broadcast_as", "i", "squeeze", "unsqueeze")
_STRIDE_CALL = re.compile(rb"\.(" + "|".join(_STRIDE_CAUSES).encode() + rb")\s*\(")


def _stride_cause(unit: SyntaxUnit, call: Node) -> str | None:
    """What made the tensor strided, when its chain shows it (transpose, narrow, permute...).

    Only the links since the chain's previous `.contiguous()` count: that copy left the layout
    contiguous. Stopping there also keeps a chain of n copies linear, not quadratic.
    """
    method = call.child_by_field_name("function")
    if method is None or method.type != "field_expression":
        return None
    name = method.child_by_field_name("field")
    since = method.start_byte
    link = method.child_by_field_name("value")
    while link is not None:
        if link.type in PASSES_VALUE:
            link = link.named_children[0] if link.named_children else None
            continue
        function = link.child_by_field_name("function") if link.type == "call_expression" else None
        if function is None or function.type != "field_expression":
            break
        field = function.child_by_field_name("field")
        if field is not None and unit.text(field) == "contiguous":
            since = link.end_byte
            break
        link = function.child_by_field_name("value")
    named = {match.group(1).decode() for match in _STRIDE_CALL.finditer(unit.data, since, name.start_byte if name else method.end_byte)}
    cause = next((cause for cause in _STRIDE_CAUSES if cause in named), None)
    return "transpose" if cause == "t" else cause


RULES = [
    Rule(
        id=MISSING_PROMOTE,
        summary="`.to_dtype(DType::F32)` without a `// PROMOTE:` comment",
        explanation=(
            "Promoting a tensor from F16/BF16 to F32 costs memory and bandwidth; the convention asks "
            "for the site-specific reason (softmax over F16 overflows, accumulation, matching a "
            "reference implementation) in `// PROMOTE: <reason>` above the call or its statement."
        ),
        check=_missing_promote,
        fixable=True,
        sites=("method_name",),
        methods=("to_dtype",),
        trigger=TO_DTYPE_CALL,
        tag=PROMOTE,
        example='let probs = logits.to_dtype(DType::F32)?.softmax(1)?; // no `// PROMOTE:` above',
    ),
    Rule(
        id=MISSING_CONTIGUOUS,
        summary="`.contiguous()` feeding a matmul without a `// CONTIGUOUS:` comment",
        explanation=(
            "`.contiguous()` copies a strided tensor. When its value reaches a matmul-like call "
            "(in the same chain, as an argument, or through a local binding), say what made the "
            "layout strided and why the copy is needed: `// CONTIGUOUS: <reason>`."
        ),
        check=_missing_contiguous,
        fixable=True,
        sites=("method_name", "function_name"),
        methods=("contiguous",),
        trigger=CONTIGUOUS_CALL,
        tag=CONTIGUOUS,
        example='let y = x.transpose(0, 1)?.contiguous()?.matmul(&w)?; // no `// CONTIGUOUS:` above',
    ),
]
