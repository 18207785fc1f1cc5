"""dtype promotions and layout copies that feed a matmul, found in a file: the PROMOTE and CONTIGUOUS sites."""

from __future__ import annotations

import re
from typing import Iterator

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.facts.tensor_dtype import is_promotion, tensor_dtype

# Nodes a value passes through unchanged on its way along a chain.
PASSES_VALUE = frozenset({"try_expression", "parenthesized_expression", "reference_expression"})


def method_calls(ctx: FileContext, names: set[str] | tuple[str, ...]) -> Iterator[tuple[SyntaxUnit, Node, Node]]:
    """(unit, call_expression, method name node) for `.name(..)` calls."""
    wanted = set(names)
    for unit, name in ctx.sites("method_name"):
        if unit.text(name) in wanted:
            # Cached parents: tree-sitter's own `.parent` descends from the root, as deep as a long chain.
            field = unit.parent_of(name)
            call = unit.parent_of(field) if field is not None else None
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


def call_range(unit: SyntaxUnit, call: Node, name: Node) -> tuple[int, int]:
    return unit.start(name), unit.end(call)


def promotions(ctx: FileContext) -> Iterator[tuple[SyntaxUnit, Node, Node, str]]:
    """(unit, call, method name, target) for `.to_dtype(DType::<promotion target>)`: the sites PROMOTE covers.

    A receiver whose dtype the code states and which is not a narrower float (an
    integer range, a value already in F32) is a conversion, not a promotion.
    """
    for unit, call, name in method_calls(ctx, ("to_dtype",)):
        target = _promotion_target(ctx, unit, call)
        field = unit.parent_of(name)
        receiver = field.child_by_field_name("value") if field is not None else None
        if target is not None and (receiver is None or is_promotion(tensor_dtype(unit, receiver), target)):
            yield unit, call, name, target


def _is_matmul_call(ctx: FileContext, unit: SyntaxUnit, call: Node) -> bool:
    function = call.child_by_field_name("function")
    if function is None:
        return False
    if function.type == "field_expression":
        method = function.child_by_field_name("field")
        return method is not None and unit.text(method) in ctx.settings.matmul_methods
    return unit.text(function).split("::")[-1].split("<")[0] in ctx.settings.matmul_methods


def _climb(unit: SyntaxUnit, node: Node) -> Node:
    parent = unit.parent_of(node)
    while parent is not None and parent.type in PASSES_VALUE:
        node, parent = parent, unit.parent_of(parent)
    return node


def _reaches_matmul_in_chain(ctx: FileContext, unit: SyntaxUnit, call: Node) -> Node:
    """Follows the value up its chain; returns the outermost node the value became.

    Reaching a matmul-like call (as receiver or argument) is signalled by
    returning that call node itself. Every link of a chain has the same answer,
    so it is remembered for each (per unit): a chain of n `.contiguous()` calls
    is walked once, not n times.
    """
    known: dict[int, Node] = unit.memo.setdefault((__name__, ctx.settings.matmul_methods), {})
    passed: list[int] = []
    value = _climb(unit, call)
    while True:
        if value.id in known:
            reached = known[value.id]
            break
        passed.append(value.id)
        parent = unit.parent_of(value)
        reached = value
        if parent is None:
            break
        if parent.type == "field_expression" and parent.child_by_field_name("value") == value:
            outer = unit.parent_of(parent)
            if outer is None or outer.type != "call_expression":
                break
            if _is_matmul_call(ctx, unit, outer):
                reached = outer
                break
            value = _climb(unit, outer)
            continue
        grandparent = unit.parent_of(parent) if parent.type == "arguments" else None
        if grandparent is not None and _is_matmul_call(ctx, unit, grandparent):
            reached = grandparent
        break
    for node_id in passed:
        known[node_id] = reached
    return reached


def _bound_name(value: Node, unit: SyntaxUnit) -> tuple[str, Node] | None:
    parent = unit.parent_of(value)
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
    function = unit.parent_of(binding)
    while function is not None and function.type not in ("function_item", "closure_expression"):
        function = unit.parent_of(function)
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
            call = unit.parent_of(name)
            while call is not None and call.type != "call_expression":
                call = unit.parent_of(call)
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
