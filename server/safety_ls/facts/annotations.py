"""What a written reason says: whether it still holds template placeholders."""

from __future__ import annotations

import re

# `<reason>`, `<from>`, or a template's `<reason, e.g. softmax over F16 overflows>`; not a generic
# such as `Vec<u8>` (preceded by a word character) or a primitive type in angle brackets.
_ANGLE_PLACEHOLDER = re.compile(r"(?<![\w:&])<(?!(?:[iuf](?:8|16|32|64|128|size)|bool|char)>)[a-z][^<>\n]*>")


_WORD_PLACEHOLDER = re.compile(r"\b(?:TODO|FIXME|XXX|TBD)\b")


_BRACKET_PLACEHOLDER = re.compile(
    r"\[(?:\.\.\.|…|[A-Za-z][\w'-]*(?: [\w'-]+)+|(?i:description|reason|invariants?|justification|explanation))\](?!\()"
)


def placeholder_in(reason: str) -> str | None:
    for pattern in (_ANGLE_PLACEHOLDER, _WORD_PLACEHOLDER, _BRACKET_PLACEHOLDER):
        found = pattern.search(reason)
        if found:
            return found.group(0)
    if reason.strip() in ("...", "…", "?", "???"):
        return reason.strip()
    return None
