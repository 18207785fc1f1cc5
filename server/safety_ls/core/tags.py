"""The one registry of annotation tags.

Placement, annotation quality, fixes, the audit and the README read the tags from here, so a
tag added for a new rule is known to all of them at once (a test checks every rule's tag is
registered).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# `// safety-ls: allow(rule, ..)` (and `allow-file`): a directive to the tool, never an annotation.
ALLOW_COMMENT = re.compile(rb"//[/!]?\s*safety-ls:\s*allow(?P<file>-file)?\s*\((?P<rules>[^)]*)\)")


@dataclass(frozen=True)
class Tag:
    name: str
    # clippy matches `SAFETY:` in any case; the conventions write the other tags in capitals.
    any_case: bool = False
    # Conventions that write this tag, for documentation.
    convention: str = ""


SAFETY = "SAFETY"
PROMOTE = "PROMOTE"
CONTIGUOUS = "CONTIGUOUS"
CAST = "CAST"
TRAIT_OBJECT = "TRAIT_OBJECT"
EXHAUSTIVE = "EXHAUSTIVE"
EXPLICIT = "EXPLICIT"
BORROW = "BORROW"
INDEX = "INDEX"

TAGS: dict[str, Tag] = {
    tag.name: tag
    for tag in (
        Tag(SAFETY, any_case=True, convention="clippy, mistral.rs, candle-mi"),
        Tag(PROMOTE, convention="candle-mi"),
        Tag(CONTIGUOUS, convention="candle-mi"),
        Tag(CAST, convention="candle-mi"),
        Tag(TRAIT_OBJECT, convention="candle-mi (grit)"),
        Tag(EXHAUSTIVE, convention="candle-mi (grit)"),
        Tag(EXPLICIT, convention="candle-mi (grit)"),
        Tag(BORROW, convention="candle-mi (grit)"),
        Tag(INDEX, convention="candle-mi (grit)"),
    )
}

# Tags that the audit counts coverage for, besides SAFETY.
COVERAGE_TAGS = (PROMOTE, CONTIGUOUS, CAST)


def _alternatives() -> str:
    return "|".join(f"(?i:{re.escape(t.name)})" if t.any_case else re.escape(t.name) for t in TAGS.values())


# A line of a comment run that opens with some tag: where one annotation ends and the next begins.
NEXT_TAG = re.compile(rf"^(?:{_alternatives()}):")
# A tagged comment anywhere in a file's bytes (`// TAG:`, `/// TAG:`, `/* TAG:`).
TAG_IN_COMMENT = re.compile(
    rf"(?P<opener>//[/!]?|/\*[*!]?)[ \t]*(?P<tag>{_alternatives()}):".encode()
)
