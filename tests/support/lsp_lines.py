"""The client's side of LSP positions, written apart from the server's to check it.

As the LSP specification says, a line ends at `\\n`, `\\r\\n` or a lone `\\r`; columns count
UTF-8 bytes, UTF-16 code units or characters (utf-32). Indices are into the Python string.
"""

from __future__ import annotations

import bisect
import re

from lsprotocol import types as lsp

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line, its line break left out."""
    found, start = [], 0
    for line_break in _LINE_BREAK.finditer(text):
        found.append((start, line_break.start()))
        start = line_break.end()
    return [*found, (start, len(text))]


def position_at(text: str, index: int, encoding: str = "utf-16") -> lsp.Position:
    """The LSP position of the character index `index` of `text`."""
    starts = [start for start, _ in lines(text)]
    line = bisect.bisect_right(starts, index) - 1
    return lsp.Position(line, units(text[starts[line] : index], encoding))


def index_at(text: str, position: lsp.Position, encoding: str = "utf-16") -> int:
    """The character index of an LSP position in `text`; past a line's end is its end."""
    spans = lines(text)
    if position.line >= len(spans):
        return len(text)
    start, end = spans[position.line]
    count = 0
    for index in range(start, end):
        if count >= position.character:
            return index
        count += units(text[index], encoding)
    return end
