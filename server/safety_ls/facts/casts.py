"""Numeric `as` casts: their target, their source type where the code states it, and `// CAST: A → B` conversions."""

from __future__ import annotations

import re
from typing import Iterator

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.parsing import SyntaxUnit, walk_remembered
from safety_ls.facts.scopes import bindings_before, scope_of

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
    # candle's Tensor/Shape
    "elem_count": "usize",
    "rank": "usize",
    # std::time::Duration
    "as_secs": "u64",
    "as_millis": "u128",
    "as_micros": "u128",
    "as_nanos": "u128",
    "as_secs_f32": "f32",
    "as_secs_f64": "f64",
}
# candle methods returning `Result<usize>`, read through `?`.
_FALLIBLE_USIZE_METHODS = frozenset({"dim", "dims1"})


# Integer widths, and whether signed. usize/isize are taken as at most 64 bits (every target
# Rust supports); u16 → usize is lossless, u32 → usize only on 32-bit and wider targets.
_INTEGERS = {
    "u8": (8, False), "u16": (16, False), "u32": (32, False), "u64": (64, False), "u128": (128, False),
    "i8": (8, True), "i16": (16, True), "i32": (32, True), "i64": (64, True), "i128": (128, True),
}
_POINTER_SIZED = {"usize": False, "isize": True}
# Exact integers a float's significand holds: every integer of up to this many bits converts exactly.
_FLOAT_SIGNIFICAND = {"f16": 11, "f32": 24, "f64": 53, "f128": 113}
_FLOAT_ORDER = ("f16", "f32", "f64", "f128")


def _integer_fits(source: tuple[int, bool], target: tuple[int, bool]) -> bool:
    (source_bits, source_signed), (target_bits, target_signed) = source, target
    if source_signed and not target_signed:
        return False  # a negative value changes sign
    return source_bits < target_bits if target_signed and not source_signed else source_bits <= target_bits


def is_lossless(source: str, target: str) -> bool:
    """Whether every value of `source` converts to `target` exactly: no truncation, sign change or rounding."""
    if source == target:
        return True
    if source == "bool":
        return target in _INTEGERS or target in _POINTER_SIZED
    if source == "char":
        return target in ("u32", "u64", "u128", "i64", "i128")
    if source in _FLOAT_ORDER:
        return target in _FLOAT_ORDER and _FLOAT_ORDER.index(source) <= _FLOAT_ORDER.index(target)
    if source in _POINTER_SIZED:
        widest = (64, _POINTER_SIZED[source])
        return target in _INTEGERS and _integer_fits(widest, _INTEGERS[target])
    if source not in _INTEGERS:
        return False
    if target in _POINTER_SIZED:
        return _integer_fits(_INTEGERS[source], (16, _POINTER_SIZED[target]))
    if target in _INTEGERS:
        return _integer_fits(_INTEGERS[source], _INTEGERS[target])
    bits, signed = _INTEGERS[source]
    return target in _FLOAT_SIGNIFICAND and bits - int(signed) <= _FLOAT_SIGNIFICAND[target]


def cast_target(unit: SyntaxUnit, cast: Node) -> str | None:
    target = cast.child_by_field_name("type")
    if target is None or target.type != "primitive_type":
        return None
    name = unit.text(target)
    return name if name in NUMERIC_TYPES else None


def _declares(unit: SyntaxUnit, node: Node, name: str) -> str | None:
    """The declared type if `node` (a `let` or a parameter) binds `name` with one."""
    pattern = node.child_by_field_name("pattern")
    declared = node.child_by_field_name("type")
    if pattern is None or declared is None:
        return None
    return unit.text(declared) if unit.text(pattern).removeprefix("mut ").strip() == name else None


# How many untyped `let`s are followed back to their values.
_BINDING_DEPTH = 4


def _let_binding(unit: SyntaxUnit, node: Node, name: str) -> str | Node | None:
    """For a `let` binding `name`: its declared type text, else its value to infer from."""
    pattern = node.child_by_field_name("pattern")
    if pattern is None or unit.text(pattern).removeprefix("mut ").strip() != name:
        return None
    declared = node.child_by_field_name("type")
    return unit.text(declared) if declared is not None else node.child_by_field_name("value")


def _for_binding(unit: SyntaxUnit, node: Node, name: str) -> str | Node | None:
    """For a `for` binding `name`: the range it walks (`for i in 0..n`), or usize for `.enumerate()`'s index."""
    pattern, value = node.child_by_field_name("pattern"), node.child_by_field_name("value")
    if pattern is None or value is None:
        return None
    if pattern.type == "identifier" and unit.text(pattern) == name and value.type == "range_expression":
        return value
    first = pattern.named_child(0) if pattern.type == "tuple_pattern" and pattern.named_child_count else None
    if first is not None and unit.text(first) == name and unit.text(value).rstrip().endswith(".enumerate()"):
        return "usize"
    return None


def _binding(unit: SyntaxUnit, name: str, use: Node) -> str | Node | None:
    """What the local or parameter `name` visible at `use` is bound with: a declared type text,
    or a value (an untyped `let`'s, a `for` loop's range) whose type may be inferred.

    The latest binding before `use` wins: a `let` that ended before it (`let n = n as u32` reads
    the old n), or a `for` loop around it.
    """
    function = scope_of(unit, use)
    if function is None:
        return None
    bound = _bound_in(unit, function, name, use.start_byte)
    return bound if bound is not None else _bound_around(unit, function, name)


def _bound_in(unit: SyntaxUnit, function: Node, name: str, position: int) -> str | Node | None:
    """`name` as bound in `function`'s own body before `position`, or as its parameter."""
    for node in bindings_before(unit, function, name, position):
        bound = None
        if node.type == "let_declaration" and node.end_byte <= position:
            bound = _let_binding(unit, node, name)
        elif node.type == "for_expression" and node.end_byte > position:
            bound = _for_binding(unit, node, name)
        if bound is not None:
            return bound
    parameters = function.child_by_field_name("parameters")
    for parameter in parameters.named_children if parameters is not None else ():
        if declared := _declares(unit, parameter, name):
            return declared
    return None


def _bound_around(unit: SyntaxUnit, scope: Node, name: str) -> str | Node | None:
    """`name` as the scopes around `scope` bind it where `scope` starts: the same for every use
    inside it (nothing they bind lies inside it), so remembered per scope and name for each scope
    passed; uses n closures deep each climbed all n (quadratic)."""

    def outwards(current: Node) -> tuple[Node | None, str | Node | None]:
        enclosing = scope_of(unit, current)
        found = _bound_in(unit, enclosing, name, current.start_byte) if enclosing is not None else None
        return (enclosing if found is None else None), found

    known: dict[tuple[int, str], str | Node | None] = unit.memo.setdefault((__name__, "around"), {})
    return walk_remembered(known, scope, lambda current: (current.id, name), outwards)


_COMPARISONS = frozenset({"==", "!=", "<", ">", "<=", ">=", "&&", "||"})
_SHIFTS = frozenset({"<<", ">>"})


def _is_unsuffixed_literal(unit: SyntaxUnit, node: Node) -> bool:
    return node.type in ("integer_literal", "float_literal") and not (
        _INTEGER_SUFFIX.search(unit.text(node)) or _FLOAT_SUFFIX.search(unit.text(node))
    )


def _operator_type(unit: SyntaxUnit, left: Node, right: Node, left_type: str | None, right_type: str | None) -> str | None:
    """`a * b`: the operands' common type (an unsuffixed literal takes the other's)."""
    if left_type is not None and (left_type == right_type or _is_unsuffixed_literal(unit, right)):
        return left_type
    return right_type if right_type is not None and _is_unsuffixed_literal(unit, left) else None


def _operand(unit: SyntaxUnit, value: Node) -> Node | None:
    """`value` with what keeps its type peeled off: `(x)`, `-x`, and a range's first bound that is
    not an unsuffixed literal (None when it has none). In a loop: nested input must not recurse."""
    while True:
        negated = value.type == "unary_expression" and unit.data.startswith(b"-", value.start_byte)
        if value.named_child_count == 1 and (value.type == "parenthesized_expression" or negated):
            value = value.named_child(0)  # type: ignore[assignment]
        elif value.type == "range_expression":
            bounds = [child for child in value.named_children if not _is_unsuffixed_literal(unit, child)]
            if not bounds:
                return None
            value = bounds[0]
        else:
            return value


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


def source_type(ctx: FileContext, unit: SyntaxUnit, value: Node, depth: int = 0) -> str | None:
    """The type of a cast's operand where the syntax alone says it (through up to `_BINDING_DEPTH` lets).

    Operator trees are evaluated with a stack of their own: `(a + b + ... + z) as u32` is a tree
    as deep as the sum is long, and recursing into it overflowed Python's stack at a few thousand.
    """
    types: dict[int, str | None] = {}
    pending: list[tuple[Node, bool]] = [(value, False)]
    while pending:
        node, operands_known = pending.pop()
        inner = _operand(unit, node)
        if inner is None or inner.type != "binary_expression":
            types[node.id] = _leaf_type(ctx, unit, inner, depth) if inner is not None else None
            continue
        operator, left, right = (inner.child_by_field_name(name) for name in ("operator", "left", "right"))
        if operator is None or left is None or right is None:
            types[node.id] = None
            continue
        symbol = unit.text(operator)
        if symbol in _COMPARISONS:
            types[node.id] = "bool"
        elif not operands_known:
            pending.append((node, True))
            pending.append((left, False))
            if symbol not in _SHIFTS:
                pending.append((right, False))
        elif symbol in _SHIFTS:
            types[node.id] = types[left.id]
        else:
            types[node.id] = _operator_type(unit, left, right, types[left.id], types[right.id])
    return types[value.id]


def _leaf_type(ctx: FileContext, unit: SyntaxUnit, value: Node, depth: int) -> str | None:
    """`source_type` of an operand that is no operator expression."""
    kind = value.type
    # The text only of what is read by its text: an operand that is itself a long cast chain or
    # expression would be decoded whole for each cast of it.
    if kind == "integer_literal":
        match = _INTEGER_SUFFIX.search(unit.text(value))
        return match.group(1) if match else None
    if kind == "float_literal":
        match = _FLOAT_SUFFIX.search(unit.text(value))
        return match.group(1) if match else None
    if kind == "char_literal":
        return "char"
    if kind == "boolean_literal":
        return "bool"
    if kind == "type_cast_expression":
        target = value.child_by_field_name("type")
        return unit.text(target) if target is not None else None
    if kind == "identifier":
        bound = _binding(unit, unit.text(value), value)
        if isinstance(bound, Node):
            return source_type(ctx, unit, bound, depth + 1) if depth < _BINDING_DEPTH else None
        return _primitive(bound)
    if kind == "try_expression" and value.named_child_count:
        inner = value.named_child(0)
        function = inner.child_by_field_name("function") if inner is not None and inner.type == "call_expression" else None
        method = function.child_by_field_name("field") if function is not None and function.type == "field_expression" else None
        return "usize" if method is not None and unit.text(method) in _FALLIBLE_USIZE_METHODS else None
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


def operand_is_pointer(unit: SyntaxUnit, value: Node, depth: int = 0) -> bool:
    """Whether a cast's operand is a raw pointer (`p as usize` is an address, not a numeric conversion)."""
    while value.type == "parenthesized_expression" and value.named_child_count == 1:
        value = value.named_child(0)  # type: ignore[assignment]
    if value.type == "type_cast_expression":
        target = value.child_by_field_name("type")
        return target is not None and target.type in ("pointer_type", "reference_type")
    if value.type == "identifier":
        bound = _binding(unit, unit.text(value), value)  # a declared type's text, or an untyped let's value
        if isinstance(bound, str):
            return bound.lstrip().startswith("*")
        # `let p = &x as *const T; p as usize`: the value the name was bound with tells.
        return bound is not None and depth < _BINDING_DEPTH and operand_is_pointer(unit, bound, depth + 1)
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
