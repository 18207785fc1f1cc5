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
from safety_ls.facts.dtype import call_range, layout_copies, promotions
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


def _promotion_context(unit: SyntaxUnit, call: Node) -> str | None:
    """The numerically sensitive operation the promoted value feeds, if the statement shows one."""
    statement = call
    while statement.parent is not None and statement.type not in ("let_declaration", "expression_statement"):
        statement = statement.parent
    text = unit.text(statement)
    tail = text[call.end_byte - statement.start_byte :]
    for hint in _PROMOTION_HINTS:
        if re.search(r"\b" + hint + r"\w*\s*[(:<]", tail):
            return hint
    return None


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


def _stride_cause(unit: SyntaxUnit, call: Node) -> str | None:
    """What made the tensor strided, when the chain shows it (transpose, narrow, permute...)."""
    receiver = call.child_by_field_name("function")
    text = unit.text(receiver) if receiver is not None else ""
    for cause in ("transpose", "permute", "narrow", "t", "broadcast_as", "i", "squeeze", "unsqueeze"):
        if re.search(r"\." + cause + r"\s*\(", text):
            return "transpose" if cause == "t" else cause
    return None


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
