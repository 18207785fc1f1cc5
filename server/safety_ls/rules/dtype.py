"""`// PROMOTE:` on dtype promotions and `// CONTIGUOUS:` on layout copies before a matmul."""

from __future__ import annotations

import re
from typing import Iterator

from tree_sitter import Node

from ..context import FileContext
from ..diagnostics import Finding
from ..parsing import SyntaxUnit
from ..triggers import CONTIGUOUS_CALL, TO_DTYPE_CALL
from . import Rule

PROMOTE = "PROMOTE"
CONTIGUOUS = "CONTIGUOUS"
# Nodes a value passes through unchanged on its way up a chain.
_TRANSPARENT = frozenset({"try_expression", "parenthesized_expression", "reference_expression"})


def method_calls(ctx: FileContext, names: set[str] | tuple[str, ...]) -> Iterator[tuple[SyntaxUnit, Node, Node]]:
    """(unit, call_expression, method name node) for `.name(..)` calls."""
    wanted = set(names)
    for unit, name in ctx.sites("method_name"):
        if unit.text(name) in wanted:
            call = name.parent.parent if name.parent is not None else None
            if call is not None and call.type == "call_expression":
                yield unit, call, name


def _arguments(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    return [] if arguments is None else [child for child in arguments.named_children if child.type not in ("line_comment", "block_comment")]


def _promotion_target(ctx: FileContext, unit: SyntaxUnit, call: Node) -> str | None:
    arguments = _arguments(call)
    if len(arguments) != 1:
        return None
    variant = unit.text(arguments[0]).split("::")[-1].strip()
    path = unit.text(arguments[0])
    if "DType" in path and variant in ctx.settings.promotion_targets:
        return variant
    return None


def _call_range(unit: SyntaxUnit, call: Node, name: Node) -> tuple[int, int]:
    return unit.start(name), unit.end(call)


def promotions(ctx: FileContext) -> Iterator[tuple[SyntaxUnit, Node, Node, str]]:
    """(unit, call, method name, target) for `.to_dtype(DType::<promotion target>)`: the sites PROMOTE covers."""
    for unit, call, name in method_calls(ctx, ("to_dtype",)):
        target = _promotion_target(ctx, unit, call)
        if target is not None:
            yield unit, call, name, target


def _missing_promote(ctx: FileContext) -> Iterator[Finding]:
    for unit, call, name, target in promotions(ctx):
        if ctx.annotation(unit, call, PROMOTE, unit.start(name)) is None:
            start, end = _call_range(unit, call, name)
            yield Finding(
                "missing-promote",
                start,
                end,
                f"promotion to {target} missing a `// PROMOTE: <reason>` comment",
                {
                    "target": target,
                    "fix": ctx.comment_fix(
                        unit,
                        call,
                        PROMOTE,
                        "promote.j2",
                        {"target": target, "hint": _promotion_context(unit, call)},
                        unit.start(name),
                    ),
                },
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


def _is_matmul_call(ctx: FileContext, unit: SyntaxUnit, call: Node) -> bool:
    function = call.child_by_field_name("function")
    if function is None:
        return False
    if function.type == "field_expression":
        method = function.child_by_field_name("field")
        return method is not None and unit.text(method) in ctx.settings.matmul_methods
    return unit.text(function).split("::")[-1].split("<")[0] in ctx.settings.matmul_methods


def _climb(node: Node) -> Node:
    while node.parent is not None and node.parent.type in _TRANSPARENT:
        node = node.parent
    return node


def _reaches_matmul_in_chain(ctx: FileContext, unit: SyntaxUnit, call: Node) -> Node:
    """Follows the value up its chain; returns the outermost node the value became.

    Reaching a matmul-like call (as receiver or argument) is signalled by
    returning that call node itself.
    """
    value = _climb(call)
    while True:
        parent = value.parent
        if parent is None:
            return value
        if parent.type == "field_expression" and parent.child_by_field_name("value") == value:
            outer = parent.parent
            if outer is None or outer.type != "call_expression":
                return value
            if _is_matmul_call(ctx, unit, outer):
                return outer
            value = _climb(outer)
            continue
        if parent.type == "arguments" and parent.parent is not None and _is_matmul_call(ctx, unit, parent.parent):
            return parent.parent
        return value


def _bound_name(value: Node, unit: SyntaxUnit) -> tuple[str, Node] | None:
    parent = value.parent
    if parent is not None and parent.type == "let_declaration":
        pattern = parent.child_by_field_name("pattern")
        if pattern is not None and pattern.type == "identifier":
            return unit.text(pattern), parent
    if parent is not None and parent.type == "assignment_expression":
        left = parent.child_by_field_name("left")
        if left is not None and left.type == "identifier":
            return unit.text(left), parent
    return None


def _used_by_matmul_later(ctx: FileContext, unit: SyntaxUnit, name: str, binding: Node) -> bool:
    function = binding.parent
    while function is not None and function.type not in ("function_item", "closure_expression"):
        function = function.parent
    if function is None:
        return False
    word = re.compile(r"\b" + re.escape(name) + r"\b")
    for call_unit, call in _matmul_calls(ctx):
        if call_unit is not unit or call.start_byte < binding.end_byte or call.end_byte > function.end_byte:
            continue
        function_node = call.child_by_field_name("function")
        receiver = function_node.child_by_field_name("value") if function_node is not None and function_node.type == "field_expression" else None
        operands = ([receiver] if receiver is not None else []) + _arguments(call)
        if any(word.search(unit.text(operand)) for operand in operands):
            return True
    return False


def _matmul_calls(ctx: FileContext) -> Iterator[tuple[SyntaxUnit, Node]]:
    for unit, call, _ in method_calls(ctx, ctx.settings.matmul_methods):
        yield unit, call
    for unit, name in ctx.sites("function_name"):
        if unit.text(name) in ctx.settings.matmul_methods:
            call = name.parent
            while call is not None and call.type != "call_expression":
                call = call.parent
            if call is not None:
                yield unit, call


def layout_copies(ctx: FileContext) -> Iterator[tuple[SyntaxUnit, Node, Node]]:
    """(unit, call, method name) for `.contiguous()` whose value reaches a matmul: the sites CONTIGUOUS covers."""
    for unit, call, name in method_calls(ctx, ("contiguous",)):
        if _arguments(call):
            continue
        reached = _reaches_matmul_in_chain(ctx, unit, call)
        feeds_matmul = reached.type == "call_expression" and _is_matmul_call(ctx, unit, reached)
        if not feeds_matmul:
            bound = _bound_name(reached, unit)
            feeds_matmul = bound is not None and _used_by_matmul_later(ctx, unit, bound[0], bound[1])
        if feeds_matmul:
            yield unit, call, name


def _missing_contiguous(ctx: FileContext) -> Iterator[Finding]:
    for unit, call, name in layout_copies(ctx):
        if ctx.annotation(unit, call, CONTIGUOUS, unit.start(name)) is None:
            start, end = _call_range(unit, call, name)
            yield Finding(
                "missing-contiguous",
                start,
                end,
                "`.contiguous()` before a matmul missing a `// CONTIGUOUS: <reason>` comment",
                {
                    "fix": ctx.comment_fix(
                        unit, call, CONTIGUOUS, "contiguous.j2", {"cause": _stride_cause(unit, call)}, unit.start(name)
                    ),
                },
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
        id="missing-promote",
        summary="`.to_dtype(DType::F32)` without a `// PROMOTE:` comment",
        explanation=(
            "Promoting a tensor from F16/BF16 to F32 costs memory and bandwidth; the convention asks "
            "for the site-specific reason (softmax over F16 overflows, accumulation, matching a "
            "reference implementation) in `// PROMOTE: <reason>` above the call or its statement."
        ),
        check=_missing_promote,
        fixable=True,
        sites=("method_name",),
        trigger=TO_DTYPE_CALL,
        tag=PROMOTE,
    ),
    Rule(
        id="missing-contiguous",
        summary="`.contiguous()` feeding a matmul without a `// CONTIGUOUS:` comment",
        explanation=(
            "`.contiguous()` copies a strided tensor. When its value reaches a matmul-like call "
            "(in the same chain, as an argument, or through a local binding), say what made the "
            "layout strided and why the copy is needed: `// CONTIGUOUS: <reason>`."
        ),
        check=_missing_contiguous,
        fixable=True,
        sites=("method_name", "function_name"),
        trigger=CONTIGUOUS_CALL,
        tag=CONTIGUOUS,
    ),
]
