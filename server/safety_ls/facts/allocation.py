"""Unchecked device allocations (`unsafe { dev.alloc::<T>(n) }`): the calls the wrapper refactor rewrites."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tree_sitter import Node

from safety_ls.core.parsing import SyntaxUnit

WRAPPER_NAMES = {"device": "alloc_device_buffer", "stream": "alloc_stream_buffer"}


_SIMPLE_RECEIVER = re.compile(r"^[\w.]+$")


@dataclass(frozen=True)
class AllocationCall:
    receiver: str
    element: str
    count: str
    form: str  # "device" or "stream"

    @property
    def name(self) -> str:
        return WRAPPER_NAMES[self.form]

    @property
    def replacement(self) -> str:
        receiver = self.receiver if self.receiver.startswith("&") else (
            f"&{self.receiver}" if _SIMPLE_RECEIVER.match(self.receiver) else f"&({self.receiver})"
        )
        return f"{self.name}::<{self.element}>({receiver}, {self.count})"

    def as_request(self, start: int, end: int) -> dict[str, Any]:
        return {"start": start, "end": end, "replacement": self.replacement, "name": self.name, "form": self.form}


def allocation_call(unit: SyntaxUnit, unsafe_block: Node) -> AllocationCall | None:
    """`dev.alloc::<T>(n)` when it is the unsafe block's only content."""
    block = unsafe_block.named_child(0) if unsafe_block.named_child_count else None
    if block is None or block.type != "block":
        return None
    content = [child for child in block.named_children if child.type not in ("line_comment", "block_comment")]
    if len(content) != 1 or content[0].type != "call_expression":
        return None
    call = content[0]
    function = call.child_by_field_name("function")
    arguments = call.child_by_field_name("arguments")
    if function is None or function.type != "generic_function" or arguments is None:
        return None
    method = function.child_by_field_name("function")
    types = function.child_by_field_name("type_arguments")
    if method is None or method.type != "field_expression" or types is None:
        return None
    name = method.child_by_field_name("field")
    receiver = method.child_by_field_name("value")
    values = [child for child in arguments.named_children if child.type not in ("line_comment", "block_comment")]
    if name is None or receiver is None or unit.text(name) != "alloc" or len(values) != 1:
        return None
    receiver_text = unit.text(receiver)
    form = "stream" if "stream" in receiver_text.lower() else "device"
    return AllocationCall(receiver_text, unit.text(types)[1:-1].strip(), unit.text(values[0]), form)
