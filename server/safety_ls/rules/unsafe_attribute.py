"""SAFETY comments on `#[unsafe(..)]` attributes (opt-in; clippy has no lint yet)."""

from __future__ import annotations

import re
from typing import Iterator

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding
from safety_ls.core.tags import SAFETY
from safety_ls.rules import Rule

UNSAFE_ATTRIBUTE = "unsafe-attribute"

_UNSAFE_ATTRIBUTE = re.compile(rb"#!?\[\s*unsafe\s*\(")
# `unsafe(no_mangle)`, `unsafe(export_name = "..")`, `unsafe(link_section = "..")`: the name inside.
_WRAPPED_NAME = re.compile(r"^#!?\[\s*unsafe\s*\(\s*(\w+)")


def _undocumented_unsafe_attributes(ctx: FileContext) -> Iterator[Finding]:
    for unit, attribute in ctx.sites("attribute"):
        wrapped = _WRAPPED_NAME.match(unit.text(attribute))
        if wrapped is not None and ctx.annotation(unit, attribute, SAFETY) is None:
            yield Finding(
                UNSAFE_ATTRIBUTE,
                unit.start(attribute),
                unit.end(attribute),
                f"`#[unsafe({wrapped.group(1)})]` missing a `// SAFETY:` comment",
                {"attribute": wrapped.group(1)},
            )


RULES = [
    Rule(
        id=UNSAFE_ATTRIBUTE,
        summary="`#[unsafe(no_mangle)]`-style attribute without a SAFETY comment (opt-in)",
        explanation=(
            "`#[unsafe(no_mangle)]`, `#[unsafe(export_name = ..)]` and `#[unsafe(link_section = ..)]` "
            "can make two symbols collide or put code where the linker does not expect it; the "
            "compiler cannot check the promise. Say why it holds (the symbol name is unique in the "
            "final binary, the section is one the target defines) with a `// SAFETY:` comment above "
            "the attribute or the item's attributes. clippy has no lint for these yet (asked for by "
            "Rust-for-Linux); the rule is off until selected."
        ),
        check=_undocumented_unsafe_attributes,
        sites=("attribute",),
        trigger=_UNSAFE_ATTRIBUTE,
        tag=SAFETY,
        profiles=frozenset(),  # in no profile: `extend-select` turns it on
        example='#[unsafe(no_mangle)]\npub extern "C" fn init() {}',
    ),
]
