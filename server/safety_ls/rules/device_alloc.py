"""`unsafe { dev.alloc::<T>(n) }`: uninitialized device memory, with the safe wrapper offered.

mistral.rs's SAFETY.md §5.3 asks for one checked wrapper instead of scattered
unsafe allocations; the fix rewrites the call to it (fixes/alloc_wrapper.py
adds the wrapper once per crate). The wrapper is written against the
receiver's real type and the paths the crate uses (facts/alloc_receiver.py);
where that cannot be made to compile, no fix is offered and the message says why.
"""

from __future__ import annotations

from typing import Iterator

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding, Severity
from safety_ls.core.fix_requests import AllocationRewrite
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.triggers import UNCHECKED_ALLOC
from safety_ls.facts.alloc_receiver import wrapper_target
from safety_ls.facts.allocation import WRAPPER_NAMES, allocation_call, exported_macro
from safety_ls.rules import Rule


def _inside_wrapper(unit: SyntaxUnit, node: Node) -> bool:
    for owner, parent in unit.ancestors(node):
        if parent.type == "function_item":
            name = parent.child_by_field_name("name")
            return name is not None and owner.text(name) in WRAPPER_NAMES.values()
    return False


def _unchecked_allocations(ctx: FileContext) -> Iterator[Finding]:
    for unit, block in ctx.sites("unsafe_block"):
        call = allocation_call(ctx.source, unit, block)
        if call is None or _inside_wrapper(unit, block):
            continue
        start, end = unit.start(block), unit.end(block)
        if call.method == "alloc_zeros":
            yield Finding(
                "unsafe-device-alloc",
                start,
                end,
                f"`{call.written}` zeroes the memory and is safe; the unsafe block is not needed",
                {"kind": "device allocation"},
                AllocationRewrite(start, end, call.without_block, None),
            )
            continue
        target = wrapper_target(ctx, call)
        if call.in_macro_definition and exported_macro(call.receiver_unit):
            target = "the call is in a `#[macro_export]` macro, which other crates expand, and the wrapper is private"
        if isinstance(target, str):
            yield Finding(
                "unsafe-device-alloc",
                start,
                end,
                f"`{call.written}` hands out uninitialized device memory; no checked wrapper is offered: {target}",
                {"kind": "device allocation"},
            )
            continue
        replacement = call.wrapper_call(target.name)
        yield Finding(
            "unsafe-device-alloc",
            start,
            end,
            f"`{call.written}` hands out uninitialized device memory; use the checked wrapper `{replacement}`",
            {"kind": "device allocation"},
            AllocationRewrite(start, end, replacement, target, call.in_macro_definition),
        )


RULES = [
    Rule(
        id="unsafe-device-alloc",
        summary="`unsafe { dev.alloc::<T>(n) }` (uninitialized device memory) instead of the checked wrapper",
        explanation=(
            "cudarc's `alloc::<T>(n)` is unsafe because the memory is uninitialized. Instead of one unsafe "
            "block per allocation, route them through one wrapper that rejects zero-size and overflowing "
            "requests and documents its single unsafe block (mistral.rs SAFETY.md §5.3). The fix rewrites "
            "the call to `alloc_device_buffer::<T>(&dev, n)` (`alloc_stream_buffer` for a cudarc 0.17+ "
            "`CudaStream`), written against the receiver's type (candle's `CudaDevice`, cudarc's) and the "
            "paths the crate reaches it by, and adds the wrapper once per crate under the crate's CUDA "
            "feature. `unsafe { dev.alloc_zeros::<T>(n) }` only loses its unneeded unsafe block."
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
