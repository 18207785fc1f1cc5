"""SAFETY comments on `unsafe` blocks and `unsafe impl` (clippy `undocumented_unsafe_blocks`)."""

from __future__ import annotations

from typing import Iterator

from ..context import FileContext
from ..diagnostics import Finding
from ..placement import SAFETY
from ..triggers import UNSAFE
from . import Rule

_UNSAFE_KEYWORD = len("unsafe")


def _undocumented_blocks(ctx: FileContext) -> Iterator[Finding]:
    for unit, block in ctx.sites("unsafe_block"):
        if ctx.annotation(unit, block, SAFETY) is None:
            start = unit.start(block)
            yield Finding(
                "undocumented-unsafe-block",
                start,
                start + _UNSAFE_KEYWORD,
                "unsafe block missing a `// SAFETY:` comment",
                {"kind": "block"},
            )


def impl_trait_name(unit, impl) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    trait = impl.child_by_field_name("trait")
    target = impl.child_by_field_name("type")
    trait_name = unit.text(trait).split("::")[-1].split("<")[0].strip() if trait is not None else ""
    type_name = unit.text(target) if target is not None else ""
    return trait_name, type_name


def _undocumented_impls(ctx: FileContext) -> Iterator[Finding]:
    for unit, impl in ctx.sites("unsafe_impl"):
        if ctx.annotation(unit, impl, SAFETY) is None:
            trait_name, type_name = impl_trait_name(unit, impl)
            start = unit.start(impl)
            yield Finding(
                "undocumented-unsafe-impl",
                start,
                start + _UNSAFE_KEYWORD,
                f"`unsafe impl {trait_name} for {type_name}` missing a `// SAFETY:` comment",
                {"kind": "impl", "trait": trait_name, "type": type_name},
            )


RULES = [
    Rule(
        id="undocumented-unsafe-block",
        summary="`unsafe {}` without a SAFETY comment",
        explanation=(
            "Every unsafe block needs a `// SAFETY:` comment that says why the operations inside "
            "uphold their invariants. It goes on the line(s) directly above the block (attributes "
            "in between are fine), above the statement that holds the block, or as the first thing "
            "inside the braces. Comments after the block or above the enclosing `fn` do not count. "
            "Mirrors clippy::undocumented_unsafe_blocks."
        ),
        check=_undocumented_blocks,
        sites=("unsafe_block",),
        trigger=UNSAFE,
        tag=SAFETY,
        clippy_lint="undocumented_unsafe_blocks",
    ),
    Rule(
        id="undocumented-unsafe-impl",
        summary="`unsafe impl` without a SAFETY comment",
        explanation=(
            "Implementing an unsafe trait (Send, Sync, or any `unsafe trait`) is a promise the "
            "compiler cannot check. Write a `// SAFETY:` comment above the impl (attributes in "
            "between are fine) saying why the promise holds. Mirrors clippy's "
            "undocumented_unsafe_blocks, which covers unsafe impls too."
        ),
        check=_undocumented_impls,
        sites=("unsafe_impl",),
        trigger=UNSAFE,
        tag=SAFETY,
        clippy_lint="undocumented_unsafe_blocks",
    ),
]
