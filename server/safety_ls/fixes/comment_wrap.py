"""Comment lines wrapped to rustfmt's `max_width`, the way a person would wrap them.

A line that does not fit breaks between words; code spans (`` `a + b` ``) and
placeholders (`<reason>`) are never split, so a placeholder stays one token
that placeholder-annotation can find. Continuation lines keep the comment
marker, and list items (`// - x`) hang under their text.
"""

from __future__ import annotations

import re

_MARKER = re.compile(r"^(///|//!|//)( ?)(- )?")
_WORD = re.compile(r"(?:`[^`]*`|<[^>\n]*>|[^\s`<]|[`<])+")


def wrap_comment(line: str, indent: str, width: int) -> list[str]:
    """`line` (a comment line without indentation) as lines that fit `width` columns after `indent`."""
    marker = _MARKER.match(line)
    if marker is None or len(indent) + len(line) <= width:
        return [line]
    head = marker.group(0)
    continuation = marker.group(1) + " " + (" " * len(marker.group(3)) if marker.group(3) else "")
    words = _WORD.findall(line[len(head):])
    lines: list[str] = []
    current = head
    for word in words:
        fits = len(indent) + len(current) + len(word) + (0 if current in (head, continuation) else 1) <= width
        if current not in (head, continuation) and not fits:
            lines.append(current)
            current = continuation
        current += word if current in (head, continuation) else " " + word
    lines.append(current)
    return lines
