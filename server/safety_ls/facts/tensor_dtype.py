"""The dtype a tensor expression has, where the syntax alone says it (candle's API).

A `.to_dtype(DType::F32)` is a precision promotion only when its receiver is a
narrower float. The receiver's dtype is known when the code states it: an
integer `Tensor::arange(0u32, n, dev)`, a literal `Tensor::new(&[1u8, 2], dev)`,
`Tensor::zeros(shape, DType::U8, dev)`, a value produced by `.to_dtype(DType::U32)`,
`.argmax(..)` (U32) or a comparison such as `.ge(..)` (U8), possibly through
dtype-preserving calls (`reshape`, `narrow`, `?`) and `let` bindings. Anything
else is unknown.
"""

from __future__ import annotations

from tree_sitter import Node

from safety_ls.core.parsing import SyntaxUnit
from safety_ls.facts.scopes import bindings_before, scope_of

INTEGER = "integer"  # some integer dtype; which one does not matter for promotions

# Float dtypes by precision: a promotion goes up this list.
FLOAT_RANK = {"F8E4M3": 0, "F6E2M3": 0, "F6E3M2": 0, "F4": 0, "F8E8M0": 0, "F16": 1, "BF16": 1, "F32": 2, "F64": 3}
_INTEGER_DTYPES = frozenset({"U8", "U32", "I16", "I32", "I64", "U16", "U64", "I8"})

# candle methods whose result dtype does not depend on the receiver's.
_METHOD_RESULTS = {
    "argmax": "U32",
    "argmin": "U32",
    "argmax_keepdim": "U32",
    "argmin_keepdim": "U32",
    "arg_sort_last_dim": "U32",
    "ge": "U8",
    "gt": "U8",
    "le": "U8",
    "lt": "U8",
    "eq": "U8",
    "ne": "U8",
    "cmp": "U8",
}
# candle methods whose result has the receiver's dtype.
_PRESERVING = frozenset(
    "reshape narrow transpose t squeeze unsqueeze contiguous i get flatten flatten_all flatten_to flatten_from "
    "broadcast_as expand permute clone detach copy repeat index_select gather "
    "broadcast_left pad_with_zeros force_contiguous".split()
)
_CONSTRUCTORS_WITH_DTYPE = frozenset({"zeros", "ones", "full", "zeros_like", "ones_like", "empty", "rand", "randn"})
_CONSTRUCTORS_FROM_VALUES = frozenset({"arange", "arange_step", "new"})
_UNWRAP = frozenset({"try_expression", "parenthesized_expression", "reference_expression"})
# How many `let` bindings are followed back: enough for a value renamed a few times.
_BINDING_DEPTH = 6


def is_promotion(source: str | None, target: str) -> bool:
    """Whether converting a tensor of dtype `source` (None: unknown) to `target` raises its precision."""
    if source is None:
        return True
    return source in FLOAT_RANK and target in FLOAT_RANK and FLOAT_RANK[source] < FLOAT_RANK[target]


def _dtype_argument(unit: SyntaxUnit, arguments: list[Node]) -> str | None:
    for argument in arguments:
        text = unit.text(argument)
        if text.startswith("DType::") or "::DType::" in text:
            variant = text.rsplit("::", 1)[-1]
            return INTEGER if variant in _INTEGER_DTYPES else variant
    return None


def _literal_dtype(unit: SyntaxUnit, value: Node) -> str | None:
    """The dtype of a literal (or `&[literal, ..]`) a tensor is built from."""
    while value.type in ("reference_expression", "array_expression", "unary_expression") and value.named_child_count:
        value = value.named_child(value.named_child_count - 1 if value.type == "reference_expression" else 0)  # type: ignore[assignment]
    text = unit.text(value)
    if value.type == "integer_literal":
        return INTEGER
    if value.type == "float_literal":
        return "F32" if text.endswith("f32") else "F64" if text.endswith("f64") else None
    return None


def _arguments(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    return [] if arguments is None else [c for c in arguments.named_children if c.type not in ("line_comment", "block_comment")]


def _binding_value(unit: SyntaxUnit, name: str, use: Node) -> Node | None:
    """The value of the latest `let name = value;` before `use` in its function body (not in a
    closure or fn inside it)."""
    function = scope_of(unit, use)
    if function is None:
        return None
    for binding in bindings_before(unit, function, name, use.start_byte):  # the first that qualifies is the latest
        pattern = binding.child_by_field_name("pattern")
        value = binding.child_by_field_name("value")
        if (
            binding.type == "let_declaration"
            and binding.end_byte <= use.start_byte  # `let a = a.f()` reads the old `a`
            and pattern is not None
            and value is not None
            and unit.text(pattern).removeprefix("mut ").strip() == name
        ):
            return value
    return None


def tensor_dtype(unit: SyntaxUnit, value: Node, depth: int = 0) -> str | None:
    """The dtype of the tensor `value` evaluates to, where the syntax says it; None when unknown.

    Followed in a loop through dtype-preserving calls and `let`s: a chain of thousands of
    `.reshape(..)?` must not recurse once per link."""
    while True:
        while value.type in _UNWRAP and value.named_child_count:
            value = value.named_child(value.named_child_count - 1)  # type: ignore[assignment]
        if value.type == "identifier" and depth < _BINDING_DEPTH:
            bound = _binding_value(unit, unit.text(value), value)
            if bound is None:
                return None
            value, depth = bound, depth + 1
            continue
        if value.type != "call_expression":
            return None
        function = value.child_by_field_name("function")
        arguments = _arguments(value)
        if function is None:
            return None
        if function.type != "field_expression":
            break
        method = function.child_by_field_name("field")
        receiver = function.child_by_field_name("value")
        name = unit.text(method) if method is not None else ""
        if name == "to_dtype":
            return _dtype_argument(unit, arguments)
        if name in _METHOD_RESULTS:
            dtype = _METHOD_RESULTS[name]
            return INTEGER if dtype in _INTEGER_DTYPES else dtype
        if name in _PRESERVING and receiver is not None:
            value = receiver
            continue
        return None
    name = unit.text(function).split("::")[-1].split("<")[0]
    if name in _CONSTRUCTORS_WITH_DTYPE:
        return _dtype_argument(unit, arguments)
    if name in _CONSTRUCTORS_FROM_VALUES and arguments:
        return _literal_dtype(unit, arguments[0])
    return None
