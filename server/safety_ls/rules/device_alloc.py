"""`unsafe { dev.alloc::<T>(n) }`: uninitialized device memory, with the safe wrapper offered.

mistral.rs's SAFETY.md §5.3 asks for one checked wrapper instead of scattered
unsafe allocations; the fix rewrites the call to it (see fixes/alloc_wrapper.py,
which also adds the wrapper once per crate).
"""

from __future__ import annotations

from typing import Iterator

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding, Severity
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.triggers import UNCHECKED_ALLOC
from safety_ls.facts.allocation import WRAPPER_NAMES, allocation_call
from safety_ls.rules import Rule


def _inside_wrapper(unit: SyntaxUnit, node: Node) -> bool:
    for owner, parent in unit.ancestors(node):
        if parent.type == "function_item":
            name = parent.child_by_field_name("name")
            return name is not None and owner.text(name) in WRAPPER_NAMES.values()
    return False


def _unchecked_allocations(ctx: FileContext) -> Iterator[Finding]:
    for unit, block in ctx.sites("unsafe_block"):
        call = allocation_call(unit, block)
        if call is None or _inside_wrapper(unit, block):
            continue
        start = unit.start(block)
        yield Finding(
            "unsafe-device-alloc",
            start,
            unit.end(block),
            f"`{call.receiver}.alloc::<{call.element}>({call.count})` hands out uninitialized device memory; "
            f"use the checked wrapper `{call.replacement}`",
            {"kind": "device allocation", "fix": {"kind": "alloc-wrapper", **call.as_request(unit.start(block), unit.end(block))}},
        )


RULES = [
    Rule(
        id="unsafe-device-alloc",
        summary="`unsafe { dev.alloc::<T>(n) }` (uninitialized device memory) instead of the checked wrapper",
        explanation=(
            "cudarc's `alloc::<T>(n)` is unsafe because the memory is uninitialized. Instead of one unsafe "
            "block per allocation, route them through one wrapper that rejects zero-size and overflowing "
            "requests and documents its single unsafe block (mistral.rs SAFETY.md §5.3). The fix rewrites "
            "the call to `alloc_device_buffer::<T>(&dev, n)` and adds the wrapper once per crate."
        ),
        check=_unchecked_allocations,
        default_severity=Severity.INFO,
        fixable=True,
        fix_rewrites_code=True,
        sites=("unsafe_block",),
        trigger=UNCHECKED_ALLOC,
        example='let out = unsafe { dev.alloc::<f32>(n) }?; // the fix: alloc_device_buffer::<f32>(&dev, n)?',
    ),
]
