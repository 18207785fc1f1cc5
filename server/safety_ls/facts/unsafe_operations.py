"""The unsafe operations an unsafe block performs, read from its syntax, for SAFETY templates that name them.

Each operation carries what it asks of the code (`get_unchecked(i)`: `i` in
bounds; `from_raw_parts(p, n)`: `p` valid for `n` elements; an FFI call: the
callee's documented contract; `transmute::<A, B>`: both types). The template
words the requirement; this module only says which operation, on what.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.source import SourceText

MAX_OPERATIONS = 5
_LONGEST_CODE = 48  # longer code is elided or left out of the template: it would not read as a name

_FFI_CALLEE = re.compile(
    r"^(?:(?:\w+::)*(?:ffi|sys|libc|bindings|cuda_sys|cublas_sys|nccl_sys)::\w+|(?:\w+::)*(?:cu[A-Z]\w*|cublas\w*|cudnn\w*|nccl\w*|hip[A-Z]\w*))$"
)
_UNCHECKED_INDEX = frozenset({"get_unchecked", "get_unchecked_mut"})
_RAW_PARTS = frozenset({"from_raw_parts", "from_raw_parts_mut"})
_POINTER_FUNCTIONS = frozenset({"read", "read_unaligned", "read_volatile", "write", "write_unaligned", "write_volatile", "copy", "copy_nonoverlapping", "write_bytes"})
_POINTER_ARITHMETIC = frozenset({"add", "sub", "offset"})
_POINTER_LIKE = re.compile(r"(?:ptr|as_ptr\(\)|as_mut_ptr\(\))$")


@dataclass(frozen=True)
class Operation:
    kind: str  # index, raw_parts, ffi, transmute, deref, pointer_function, pointer_arithmetic, set_len, utf8, unwrap
    code: str  # the call or expression as written (whitespace collapsed)
    parts: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def as_context(self) -> dict[str, str]:
        return {"kind": self.kind, "code": self.code, **self.parts}


@dataclass(frozen=True)
class _Reader:
    """Node text as the file writes it: a macro fragment's parsed copy has `_x` for `$x`."""

    source: SourceText
    unit: SyntaxUnit

    def __call__(self, node: Node) -> str:
        raw = self.source.data[self.unit.start(node) : self.unit.end(node)].decode("utf-8", "replace")
        return re.sub(r"\s+", " ", raw).strip()


def _arguments(text: _Reader, call: Node) -> list[str]:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    return [text(child) for child in arguments.named_children if child.type not in ("line_comment", "block_comment")]


def _call_operation(text: _Reader, call: Node) -> Operation | None:
    unit = text.unit
    function = call.child_by_field_name("function")
    if function is None:
        return None
    arguments = _arguments(text, call)
    turbofish = None
    if function.type == "generic_function":
        types = function.child_by_field_name("type_arguments")
        turbofish = [text(child) for child in types.named_children] if types is not None else None
        function = function.child_by_field_name("function")
        if function is None:
            return None
    code = text(call)
    if function.type == "field_expression":
        method_node = function.child_by_field_name("field")
        receiver_node = function.child_by_field_name("value")
        if method_node is None or receiver_node is None:
            return None
        method, receiver = unit.text(method_node), text(receiver_node)
        if method in _UNCHECKED_INDEX and len(arguments) == 1:
            return Operation("index", code, {"receiver": receiver, "index": arguments[0]})
        if method == "set_len" and len(arguments) == 1:
            return Operation("set_len", code, {"receiver": receiver, "length": arguments[0]})
        if method == "unwrap_unchecked":
            return Operation("unwrap", code, {"receiver": receiver})
        if method in _POINTER_ARITHMETIC and len(arguments) == 1 and _POINTER_LIKE.search(receiver):
            return Operation("pointer_arithmetic", code, {"pointer": receiver, "count": arguments[0]})
        return None
    path = text(function)
    name = path.split("::")[-1]
    if name in _RAW_PARTS and len(arguments) == 2:
        mutable = "true" if name.endswith("_mut") else ""
        return Operation("raw_parts", code, {"pointer": arguments[0], "length": arguments[1], "mutable": mutable})
    if name == "transmute":
        source, target = (turbofish + [None, None])[:2] if turbofish else (None, None)
        return Operation("transmute", code, {"source": source or "", "target": target or ""})
    if name in ("from_utf8_unchecked", "from_utf8_unchecked_mut") and len(arguments) == 1:
        return Operation("utf8", code, {"bytes": arguments[0]})
    if name in _POINTER_FUNCTIONS and ("ptr::" in path or "::" not in path) and "ptr" in path:
        return Operation("pointer_function", code, {"function": name, "arguments": ", ".join(arguments)})
    if _FFI_CALLEE.match(path):
        return Operation("ffi", code, {"callee": path})
    return None


def _is_pointer_arithmetic(unit: SyntaxUnit, node: Node) -> bool:
    """`p.add(n)` (or `sub`, `offset`): dereferenced, its receiver is a pointer whatever its name."""
    function = node.child_by_field_name("function") if node.type == "call_expression" else None
    method = function.child_by_field_name("field") if function is not None and function.type == "field_expression" else None
    return method is not None and unit.text(method) in _POINTER_ARITHMETIC


_POINTER_OPERANDS = frozenset({"identifier", "field_expression", "parenthesized_expression", "self"})


def _deref(text: _Reader, node: Node) -> Operation | None:
    unit = text.unit
    """`*p` of something that may be a raw pointer (not `*v.get_unchecked(i)`, a reference)."""
    operand = node.named_child(0) if node.named_child_count else None
    if operand is None or not unit.text(node).startswith("*"):
        return None
    if operand.type not in _POINTER_OPERANDS and not _is_pointer_arithmetic(unit, operand):
        return None
    return Operation("deref", text(node), {"pointer": text(operand)})


def _shortened(operation: Operation) -> Operation | None:
    """The operation with long arguments elided from its code (`f(..)`); None when even that is long
    or a part it names is (a whole expression reads badly as a name)."""
    if any(len(part) > _LONGEST_CODE for part in operation.parts.values()):
        return None
    code = operation.code
    if len(code) > _LONGEST_CODE and code.endswith(")") and "(" in code:
        code = code[: code.index("(")] + "(..)"
    return Operation(operation.kind, code, operation.parts) if len(code) <= _LONGEST_CODE else None


def unsafe_operations(source: SourceText, unit: SyntaxUnit, block: Node) -> list[Operation]:
    """The block's recognised unsafe operations in reading order, each written once (nested
    unsafe blocks, closures' own blocks and items are their own sites and are left out)."""
    text = _Reader(source, unit)
    found: list[Operation] = []
    stack = list(reversed(block.named_children))
    while stack and len(found) < MAX_OPERATIONS:
        node = stack.pop()
        if node.type in ("unsafe_block", "function_item", "impl_item", "macro_invocation"):
            continue
        operation = None
        if node.type == "call_expression":
            operation = _call_operation(text, node)
        elif node.type == "unary_expression":
            operation = _deref(text, node)
        operation = _shortened(operation) if operation is not None else None
        if operation is not None and operation not in found:
            found.append(operation)
        stack.extend(reversed(node.named_children))
    return found
