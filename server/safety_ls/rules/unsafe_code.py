"""SAFETY comments on `unsafe` blocks and `unsafe impl` (clippy `undocumented_unsafe_blocks`)."""

from __future__ import annotations

import re
from typing import Any, Iterator

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.source import SourceText
from safety_ls.core.tags import SAFETY
from safety_ls.core.triggers import UNSAFE
from safety_ls.facts.categories import (
    SAFETY_BLOCK_TEMPLATES,
    Category,
    categorize_block,
)
from safety_ls.facts.cuda_kernels import index_for
from safety_ls.facts.launch_checks import kernel_parameters
from safety_ls.facts.launches import launches_in_block
from safety_ls.facts.threads import unsynchronized_fields
from safety_ls.facts.unsafe_operations import unsafe_operations
from safety_ls.facts.unsafe_sites import (
    file_opening_text,
    impl_trait_name,
    paired_safety_comment,
)
from safety_ls.rules import Rule

UNDOCUMENTED_UNSAFE_BLOCK = "undocumented-unsafe-block"
UNDOCUMENTED_UNSAFE_IMPL = "undocumented-unsafe-impl"

_UNSAFE_KEYWORD = len("unsafe")


_ALLOCATION = re.compile(r"([\w.()&\[\]]+?)\s*\.\s*alloc(?:_zeros)?\s*::\s*<\s*([^>]+?)\s*>\s*\(([^)]*)\)")
# Categories whose templates name the block's own unsafe operations when it has recognisable ones.
_NAMED_OPERATIONS = frozenset({Category.FFI_CALL, Category.RAW_POINTER, Category.TRANSMUTE, Category.OTHER})
_FFI_FUNCTION = re.compile(r"\b((?:\w+::)*(?:ffi|sys|libc|bindings)::\w+|cu[A-Z]\w*|cublas\w*|nccl\w*|hip[A-Z]\w*)\s*\(")


def block_template(source: SourceText, unit: SyntaxUnit, block: Node) -> tuple[str, dict[str, Any]]:
    """The SAFETY template for an unsafe block, and what it is filled with (text as the file
    writes it, so a macro body's `$x` stays `$x`)."""
    text = file_opening_text(source, unit, block)
    category = categorize_block(text)
    context: dict[str, Any] = {"kind": category.value}
    if category is Category.DEVICE_ALLOCATION and (match := _ALLOCATION.search(text)):
        context.update(receiver=match.group(1), element=match.group(2), count=match.group(3).strip())
    elif category is Category.DEVICE_ALLOCATION:
        category = Category.OTHER
    if category is Category.KERNEL_LAUNCH:
        site = next(iter(launches_in_block(unit, block)), None)
        context.update(
            kernel=site.kernel if site is not None else None,
            arguments=list(site.arguments or ()) if site is not None else [],
        )
    if category in _NAMED_OPERATIONS:
        # The templates name what the block does and what each operation needs, where they can.
        context["operations"] = [operation.as_context() for operation in unsafe_operations(source, unit, block)]
    if category is Category.FFI_CALL:
        function = _FFI_FUNCTION.search(text)
        context.update(function=function.group(1) if function else None)
    return SAFETY_BLOCK_TEMPLATES[category.value], context


def launched_parameters(ctx: FileContext, unit: SyntaxUnit, block: Node) -> list[str] | None:
    """The parameters of the kernel the block launches, from the workspace's CUDA sources."""
    site = next(iter(launches_in_block(unit, block, ctx.settings.launch_patterns)), None)
    if site is None or not site.kernel:
        return None
    return kernel_parameters(site, index_for(ctx)[0])


def _undocumented_blocks(ctx: FileContext) -> Iterator[Finding]:
    for unit, block in ctx.sites("unsafe_block"):
        if ctx.annotation(unit, block, SAFETY) is None:
            start = unit.start(block)
            template, context = block_template(ctx.source, unit, block)
            if context["kind"] == "kernel launch":
                context["parameters"] = launched_parameters(ctx, unit, block)
            yield Finding(
                "undocumented-unsafe-block",
                start,
                start + _UNSAFE_KEYWORD,
                "unsafe block missing a `// SAFETY:` comment",
                {"kind": context["kind"]},
                ctx.comment_fix(unit, block, SAFETY, template, context),
            )


def _impl_template(ctx: FileContext, trait_name: str, type_name: str) -> tuple[str, dict[str, Any]]:
    context: dict[str, Any] = {"trait": trait_name, "type": type_name}
    if trait_name not in ("Send", "Sync"):
        return "safety_impl.j2", context
    struct = ctx.struct(re.split(r"[<\s]", type_name.split("::")[-1])[0])
    fields = list(struct.fields) if struct is not None else []
    involved = unsynchronized_fields(tuple(fields)) or fields
    context["fields"] = [{"name": name, "type": declared} for name, declared in involved]
    return "safety_send_sync.j2", context


def _documented_by_pair(ctx: FileContext, unit: SyntaxUnit, impl: Node) -> bool:
    """`send-sync-pair`: a SAFETY comment over the Send impl right before covers this Sync impl."""
    return ctx.settings.send_sync_pair and paired_safety_comment(ctx, unit, impl) is not None


def _undocumented_impls(ctx: FileContext) -> Iterator[Finding]:
    for unit, impl in ctx.sites("unsafe_impl"):
        if ctx.annotation(unit, impl, SAFETY) is None and not _documented_by_pair(ctx, unit, impl):
            trait_name, type_name = impl_trait_name(unit, impl)
            start = unit.start(impl)
            template, context = _impl_template(ctx, trait_name, type_name)
            yield Finding(
                "undocumented-unsafe-impl",
                start,
                start + _UNSAFE_KEYWORD,
                f"`unsafe impl {trait_name} for {type_name}` missing a `// SAFETY:` comment",
                {
                    "kind": Category.SEND_SYNC.value if trait_name in ("Send", "Sync") else "impl",
                    "trait": trait_name,
                    "type": type_name,
                },
                ctx.comment_fix(unit, impl, SAFETY, template, context),
            )


RULES = [
    Rule(
        id=UNDOCUMENTED_UNSAFE_BLOCK,
        summary="`unsafe {}` without a SAFETY comment",
        explanation=(
            "Every unsafe block needs a `// SAFETY:` comment that says why the operations inside "
            "uphold their invariants. It goes on the line(s) directly above the block (attributes "
            "in between are fine), above the statement that holds the block, or as the first thing "
            "inside the braces. Comments after the block or above the enclosing `fn` do not count. "
            "Mirrors clippy::undocumented_unsafe_blocks."
        ),
        check=_undocumented_blocks,
        fixable=True,
        sites=("unsafe_block",),
        trigger=UNSAFE,
        tag=SAFETY,
        clippy_lint="undocumented_unsafe_blocks",
        example='let value = unsafe { *ptr }; // no `// SAFETY:` above',
    ),
    Rule(
        id=UNDOCUMENTED_UNSAFE_IMPL,
        summary="`unsafe impl` without a SAFETY comment",
        explanation=(
            "Implementing an unsafe trait (Send, Sync, or any `unsafe trait`) is a promise the "
            "compiler cannot check. Write a `// SAFETY:` comment above the impl (attributes in "
            "between are fine) saying why the promise holds. Mirrors clippy's "
            "undocumented_unsafe_blocks, which covers unsafe impls too."
        ),
        check=_undocumented_impls,
        fixable=True,
        sites=("unsafe_impl",),
        trigger=UNSAFE,
        tag=SAFETY,
        clippy_lint="undocumented_unsafe_blocks",
        example='unsafe impl Send for DevicePtr {} // no `// SAFETY:` above',
    ),
]
