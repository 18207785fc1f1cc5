"""Device allocations in unsafe blocks: `unsafe { dev.alloc::<T>(n) }` and the forms people write around it.

Recognised: the call alone in the block, with `?` inside the braces
(`unsafe { dev.alloc::<T>(n)? }`) or after them (`unsafe { .. }?`, which stays
outside the rewritten text), `.alloc(n)` whose element type comes from a typed
`let` (left to inference), and `.alloc_zeros` (safe: it needs no block at all).
Text is read from the file, never from a macro fragment's parsed copy, so
`$metavariables` stay as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.source import SourceText

WRAPPER_NAMES = {"device": "alloc_device_buffer", "stream": "alloc_stream_buffer"}
ALLOCATING_METHODS = ("alloc", "alloc_zeros")

_SIMPLE_RECEIVER = re.compile(r"^\$?[\w.]+$")


@dataclass(frozen=True)
class AllocationCall:
    receiver: str  # as written in the file
    element: str | None  # None: `.alloc(n)`, the type is inferred
    count: str
    method: str  # "alloc" (uninitialized memory) or "alloc_zeros" (safe)
    question_mark_inside: bool  # `unsafe { dev.alloc::<T>(n)? }`
    in_macro_definition: bool
    receiver_node: Node
    receiver_unit: SyntaxUnit

    @property
    def turbofish(self) -> str:
        return f"::<{self.element}>" if self.element is not None else ""

    @property
    def written(self) -> str:
        """The call as the code writes it, for messages."""
        return f"{self.receiver}.{self.method}{self.turbofish}({self.count})"

    def wrapper_call(self, wrapper: str) -> str:
        receiver = self.receiver if self.receiver.startswith("&") else (
            f"&{self.receiver}" if _SIMPLE_RECEIVER.match(self.receiver) else f"&({self.receiver})"
        )
        return f"{wrapper}{self.turbofish}({receiver}, {self.count})" + ("?" if self.question_mark_inside else "")

    @property
    def without_block(self) -> str:
        """`alloc_zeros` needs no unsafe block: the call alone."""
        return self.written + ("?" if self.question_mark_inside else "")


def _file_text(source: SourceText, unit: SyntaxUnit, node: Node) -> str:
    return source.data[unit.start(node) : unit.end(node)].decode("utf-8", "replace")


def _only_expression(block: Node) -> Node | None:
    content = [child for child in block.named_children if child.type not in ("line_comment", "block_comment")]
    if len(content) != 1:
        return None
    expression = content[0]
    if expression.type == "expression_statement":  # `unsafe { dev.alloc::<T>(n)?; }` returns `()`
        return None
    return expression


def allocation_call(source: SourceText, unit: SyntaxUnit, unsafe_block: Node) -> AllocationCall | None:
    """The allocation when it is the unsafe block's only content."""
    block = unsafe_block.named_child(0) if unsafe_block.named_child_count else None
    if block is None or block.type != "block":
        return None
    call = _only_expression(block)
    question_mark = call is not None and call.type == "try_expression"
    if question_mark and call is not None:
        call = call.named_child(0)
    if call is None or call.type != "call_expression":
        return None
    function = call.child_by_field_name("function")
    arguments = call.child_by_field_name("arguments")
    if function is None or arguments is None:
        return None
    types = None
    if function.type == "generic_function":
        types = function.child_by_field_name("type_arguments")
        function = function.child_by_field_name("function")
    if function is None or function.type != "field_expression":
        return None
    name = function.child_by_field_name("field")
    receiver = function.child_by_field_name("value")
    values = [child for child in arguments.named_children if child.type not in ("line_comment", "block_comment")]
    if name is None or receiver is None or unit.text(name) not in ALLOCATING_METHODS or len(values) != 1:
        return None
    text = _file_text(source, unit, unsafe_block)
    if "$(" in text or (types is not None and types.named_child_count != 1):
        return None  # a macro repetition inside the block, or several type arguments
    element = _file_text(source, unit, types)[1:-1].strip() if types is not None else None
    return AllocationCall(
        _file_text(source, unit, receiver),
        element,
        _file_text(source, unit, values[0]),
        unit.text(name),
        question_mark,
        unit.in_macro_definition,
        receiver,
        unit,
    )


def exported_macro(unit: SyntaxUnit) -> bool:
    """Whether the macro_rules! that holds this fragment is `#[macro_export]`ed (used by other crates)."""
    current: SyntaxUnit | None = unit
    while current is not None and current.anchor is not None:
        if current.anchor.type == "macro_rule" and current.parent is not None:
            outer = current.parent
            definition = outer.parent_of(current.anchor)
            sibling = outer.previous_named_sibling(definition) if definition is not None else None
            while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
                if sibling.type == "attribute_item" and "macro_export" in outer.text(sibling):
                    return True
                sibling = outer.previous_named_sibling(sibling)
            return False
        current = current.parent
    return False
