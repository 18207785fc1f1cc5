"""SAFETY comments on Rust 2024 `unsafe extern` blocks (opt-in; clippy has no lint yet)."""

from __future__ import annotations

import re
from typing import Iterator

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding
from safety_ls.core.tags import SAFETY
from safety_ls.core.triggers import word
from safety_ls.rules import Rule

UNSAFE_EXTERN_BLOCK = "unsafe-extern-block"

_UNSAFE_EXTERN = re.compile(word("unsafe") + rb"\s+extern\b")


def _undocumented_extern_blocks(ctx: FileContext) -> Iterator[Finding]:
    for unit, block in ctx.sites("unsafe_extern"):
        if ctx.annotation(unit, block, SAFETY) is None:
            start = unit.start(block)
            yield Finding(
                UNSAFE_EXTERN_BLOCK,
                start,
                start + len("unsafe"),
                "`unsafe extern` block missing a `// SAFETY:` comment",
                {},
            )


RULES = [
    Rule(
        id=UNSAFE_EXTERN_BLOCK,
        summary="`unsafe extern` block without a SAFETY comment (opt-in)",
        explanation=(
            "In Rust 2024 an `extern` block is written `unsafe extern`: by writing it the author "
            "promises that every declaration inside matches the foreign definition (signature, "
            "ABI, and any item marked `safe`). Say why with a `// SAFETY:` comment above the "
            "block (attributes in between are fine), e.g. which header or library version the "
            "declarations were checked against. clippy's undocumented_unsafe_blocks does not "
            "cover these yet (asked for by Rust-for-Linux); the rule is off until selected."
        ),
        check=_undocumented_extern_blocks,
        sites=("unsafe_extern",),
        trigger=_UNSAFE_EXTERN,
        tag=SAFETY,
        profiles=frozenset(),  # in no profile: `extend-select` turns it on
        example='unsafe extern "C" {\n    fn abs(x: i32) -> i32;\n}',
    ),
]
