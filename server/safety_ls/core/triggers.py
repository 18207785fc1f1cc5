"""Text that must be present for a rule, or a kind of site, to matter.

Matching these is far cheaper than parsing or querying a tree, so files and
regions without a match are skipped.
"""

from __future__ import annotations

import re
from typing import Iterator


def word(*words: str) -> bytes:
    """A pattern for any of `words` standing as a whole word at its start (end it with `\\b` too).

    Written `unsafe(?<=\\bunsafe)` rather than `\\bunsafe`: a pattern that begins with a literal
    is searched for by the regex engine's fast literal scan, one that begins with `\\b` is tried
    at every byte (25x slower over mistral.rs).
    """
    return b"(?:" + b"|".join(re.escape(w.encode()) + rb"(?<=\b" + re.escape(w.encode()) + b")" for w in words) + b")"


UNSAFE = re.compile(word("unsafe") + rb"\b")
NUMERIC_CAST = re.compile(word("as") + rb"\s+(?:[iu](?:8|16|32|64|128|size)|f16|f32|f64|f128)\b")
UNSAFE_IMPL = re.compile(word("unsafe") + rb"\s+impl\b")
TO_DTYPE_CALL = re.compile(word("to_dtype") + rb"\b")
CONTIGUOUS_CALL = re.compile(word("contiguous") + rb"\b")
DYN = re.compile(word("dyn") + rb"\b")
EXHAUSTIVE_ALLOW = re.compile(rb"exhaustive_enums")
BORROW_METHODS = re.compile(word("as_str", "as_bytes", "to_owned") + rb"\b")
BRACKET = re.compile(rb"\[")
UNCHECKED_ALLOC = re.compile(rb"\.\s*alloc(?:_zeros)?\s*(?:::\s*<|\()")


INDENT = re.compile(rb"[ \t]*")


def line_items(
    data: bytes, body: re.Pattern[bytes], before: re.Pattern[bytes] = INDENT, pos: int = 0, endpos: int | None = None
) -> Iterator[tuple[re.Match[bytes], re.Match[bytes]]]:
    """(what precedes, match) for each match of `body` that `before` matches all the way back to its
    line's start: `^before body` in multi-line mode, found faster.

    A multi-line pattern anchored at `^` is tried at every line start; `body` starting with a
    literal is found by the fast literal scan, and only its few matches look back at their line.
    """
    end = len(data) if endpos is None else endpos
    position = pos
    while (match := body.search(data, position, end)) is not None:
        line_start = data.rfind(b"\n", 0, match.start()) + 1
        prefix = before.fullmatch(data, line_start, match.start()) if line_start >= pos else None
        if prefix is None:
            position = match.start() + 1  # not at a line's start: in a comment, a string, after code
            continue
        yield prefix, match
        position = match.end()
