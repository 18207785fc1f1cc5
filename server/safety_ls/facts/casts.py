"""Numeric `as` casts: their target, their source type where the code states it, and `// CAST: A → B` conversions."""

from __future__ import annotations

import re
from typing import Iterator

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.parsing import SyntaxUnit

NUMERIC_TYPES = frozenset(
    "i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f16 f32 f64 f128".split()
)


_SOURCE_TYPES = NUMERIC_TYPES | {"char", "bool"}


_INTEGER_SUFFIX = re.compile(r"(i8|i16|i32|i64|i128|isize|u8|u16|u32|u64|u128|usize)$")


_FLOAT_SUFFIX = re.compile(r"(f16|f32|f64|f128)$")


# `A → B`; the target is a lookahead so that a chain `u8 → u16 → u32` yields both
# steps (u8 → u16, u16 → u32), one per cast of a nested `(x as u16) as u32`.
_CONVERSION = re.compile(r"([\w<>]+)\s*(?:→|->)\s*(?=([\w<>]+))")


# Methods whose result type does not depend on the receiver.
_METHOD_RESULTS = {
    "len": "usize",
    "count": "usize",
    "capacity": "usize",
    "count_ones": "u32",
    "count_zeros": "u32",
    "leading_zeros": "u32",
    "trailing_zeros": "u32",
    "size_of": "usize",
    "align_of": "usize",
}


def cast_target(unit: SyntaxUnit, cast: Node) -> str | None:
    target = cast.child_by_field_name("type")
    if target is None or target.type != "primitive_type":
        return None
    name = unit.text(target)
    return name if name in NUMERIC_TYPES else None


def _enclosing(node: Node, kinds: tuple[str, ...]) -> Node | None:
    current = node.parent
    while current is not None and current.type not in kinds:
        current = current.parent
    return current


def _declares(unit: SyntaxUnit, node: Node, name: str) -> str | None:
    """The declared type if `node` (a `let` or a parameter) binds `name` with one."""
    pattern = node.child_by_field_name("pattern")
    declared = node.child_by_field_name("type")
    if pattern is None or declared is None:
        return None
    return unit.text(declared) if unit.text(pattern).removeprefix("mut ").strip() == name else None


def _binding_type(unit: SyntaxUnit, name: str, use: Node) -> str | None:
    """The declared type of a local or parameter `name` visible at `use`."""
    function = _enclosing(use, ("function_item", "closure_expression"))
    while function is not None:
        latest: tuple[int, str] | None = None
        body = function.child_by_field_name("body")
        stack = [body] if body is not None else []
        while stack:
            node = stack.pop()
            if node.start_byte >= use.start_byte:
                continue
            if node.type == "let_declaration" and (declared := _declares(unit, node, name)):
                if latest is None or node.start_byte > latest[0]:
                    latest = (node.start_byte, declared)
            if node.type not in ("closure_expression", "function_item"):
                stack.extend(node.named_children)
        if latest is not None:
            return latest[1]
        parameters = function.child_by_field_name("parameters")
        for parameter in parameters.named_children if parameters is not None else ():
            if declared := _declares(unit, parameter, name):
                return declared
        function = _enclosing(function, ("function_item", "closure_expression"))
    return None


def _self_type_name(unit: SyntaxUnit, node: Node) -> str | None:
    impl = _enclosing(node, ("impl_item",))
    if impl is None:
        return None
    target = impl.child_by_field_name("type")
    if target is None:
        return None
    return unit.text(target).split("<")[0].strip()


def source_type(ctx: FileContext, unit: SyntaxUnit, value: Node) -> str | None:
    """The type of a cast's operand where the syntax alone says it."""
    # `(x)` and `-x` have x's type; unwrap them in a loop (deeply nested input must not recurse).
    while value.named_child_count == 1 and (
        value.type == "parenthesized_expression" or (value.type == "unary_expression" and unit.text(value).startswith("-"))
    ):
        value = value.named_child(0)  # type: ignore[assignment]
    kind = value.type
    text = unit.text(value)
    if kind == "integer_literal":
        match = _INTEGER_SUFFIX.search(text)
        return match.group(1) if match else None
    if kind == "float_literal":
        match = _FLOAT_SUFFIX.search(text)
        return match.group(1) if match else None
    if kind == "char_literal":
        return "char"
    if kind == "boolean_literal":
        return "bool"
    if kind == "type_cast_expression":
        target = value.child_by_field_name("type")
        return unit.text(target) if target is not None else None
    if kind == "identifier":
        declared = _binding_type(unit, text, value)
        return _primitive(declared)
    if kind == "field_expression":
        base = value.child_by_field_name("value")
        field_node = value.child_by_field_name("field")
        if base is not None and field_node is not None and unit.text(base) == "self":
            owner = _self_type_name(unit, value)
            struct = ctx.struct(owner) if owner else None
            if struct is not None:
                for name, declared in struct.fields:
                    if name == unit.text(field_node):
                        return _primitive(declared)
        return None
    if kind == "call_expression":
        function = value.child_by_field_name("function")
        if function is None:
            return None
        if function.type == "field_expression":
            method = function.child_by_field_name("field")
            return _METHOD_RESULTS.get(unit.text(method)) if method is not None else None
        name = unit.text(function).split("::")[-1].split("<")[0]
        return "usize" if name in ("size_of", "align_of") else None
    return None


def operand_is_pointer(unit: SyntaxUnit, value: Node) -> bool:
    """Whether a cast's operand is a raw pointer (`p as usize` is an address, not a numeric conversion)."""
    while value.type == "parenthesized_expression" and value.named_child_count == 1:
        value = value.named_child(0)  # type: ignore[assignment]
    if value.type == "type_cast_expression":
        target = value.child_by_field_name("type")
        return target is not None and target.type in ("pointer_type", "reference_type")
    if value.type == "identifier":
        declared = _binding_type(unit, unit.text(value), value)
        return declared is not None and declared.lstrip().startswith("*")
    if value.type == "call_expression":
        function = value.child_by_field_name("function")
        method = function.child_by_field_name("field") if function is not None and function.type == "field_expression" else None
        return method is not None and unit.text(method) in ("as_ptr", "as_mut_ptr")
    return False


def _primitive(declared: str | None) -> str | None:
    if declared is None:
        return None
    cleaned = declared.replace("&", "").replace("mut ", "").strip()
    return cleaned if cleaned in _SOURCE_TYPES else None


def conversions(reason: str) -> list[tuple[str, str]]:
    return [(source, target) for source, target in _CONVERSION.findall(reason)]


def numeric_casts(ctx: FileContext) -> Iterator[tuple[SyntaxUnit, Node, str]]:
    """(unit, cast, target type) for every `as` cast to a numeric primitive: the sites CAST covers."""
    for unit, cast in ctx.sites("cast"):
        target = cast_target(unit, cast)
        if target is not None:
            yield unit, cast, target
