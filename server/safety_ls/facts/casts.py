"""Numeric `as` casts: their target, their source type where the code states it, and `// CAST: A → B` conversions."""

from __future__ import annotations

import bisect
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


_SCOPES = ("function_item", "closure_expression")


class _Scopes:
    """Per syntax unit, computed once: each node's enclosing function or closure, and the `let`s of each.

    Every cast of a long expression asks the same questions; walking up the expression and then
    the whole function body for each of them made `a as f64 + b as f64 + ...` quadratic.
    """

    def __init__(self, unit: SyntaxUnit) -> None:
        self.unit = unit
        self.enclosing: dict[int, Node | None] = {}
        # function or closure id -> name -> [(offset of the `let`, declared type)], in offset order
        self.lets: dict[int, dict[str, list[tuple[int, str]]]] = {}

    def scope_of(self, node: Node) -> Node | None:
        """The nearest function item or closure above `node`."""
        passed: list[int] = []
        current = self.unit.parent_of(node)
        found: Node | None = None
        while current is not None:
            if current.id in self.enclosing:
                found = self.enclosing[current.id]
                break
            if current.type in _SCOPES:
                found = current
                break
            passed.append(current.id)
            current = self.unit.parent_of(current)
        for node_id in passed:
            self.enclosing[node_id] = found
        return found

    def lets_in(self, function: Node) -> dict[str, list[tuple[int, str]]]:
        """The typed `let`s of a function's body, by bound name (not those of nested closures or fns)."""
        known = self.lets.get(function.id)
        if known is not None:
            return known
        found: dict[str, list[tuple[int, str]]] = {}
        body = function.child_by_field_name("body")
        stack = [body] if body is not None else []
        while stack:
            node = stack.pop()
            if node.type == "let_declaration":
                pattern, declared = node.child_by_field_name("pattern"), node.child_by_field_name("type")
                if pattern is not None and declared is not None:
                    name = self.unit.text(pattern).removeprefix("mut ").strip()
                    found.setdefault(name, []).append((node.start_byte, self.unit.text(declared)))
            if node.type not in _SCOPES:
                stack.extend(node.named_children)
        for bindings in found.values():
            bindings.sort()
        self.lets[function.id] = found
        return found


def _scopes(unit: SyntaxUnit) -> _Scopes:
    scopes = unit.memo.get(__name__)
    if scopes is None:
        scopes = unit.memo[__name__] = _Scopes(unit)
    return scopes


def _declares(unit: SyntaxUnit, node: Node, name: str) -> str | None:
    """The declared type if `node` (a parameter) binds `name` with one."""
    pattern = node.child_by_field_name("pattern")
    declared = node.child_by_field_name("type")
    if pattern is None or declared is None:
        return None
    return unit.text(declared) if unit.text(pattern).removeprefix("mut ").strip() == name else None


def _binding_type(unit: SyntaxUnit, name: str, use: Node) -> str | None:
    """The declared type of a local or parameter `name` visible at `use`: the latest typed `let`
    before it in the enclosing function or closure, else a parameter, else the same one level out."""
    scopes = _scopes(unit)
    function = scopes.scope_of(use)
    while function is not None:
        bindings = scopes.lets_in(function).get(name, [])
        before = bisect.bisect_left(bindings, (use.start_byte, ""))
        if before:
            return bindings[before - 1][1]
        parameters = function.child_by_field_name("parameters")
        for parameter in parameters.named_children if parameters is not None else ():
            if declared := _declares(unit, parameter, name):
                return declared
        function = scopes.scope_of(function)
    return None


def _self_type_name(unit: SyntaxUnit, node: Node) -> str | None:
    impl = unit.parent_of(node)
    while impl is not None and impl.type != "impl_item":
        impl = unit.parent_of(impl)
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
