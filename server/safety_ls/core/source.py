"""Source text: bytes as read, line offsets, and position conversions.

Everything in the engine works in byte offsets into the UTF-8 bytes that
tree-sitter parsed; positions for people (CLI columns in characters) and for
editors (UTF-8/16/32 code units) are derived here and nowhere else.
"""

from __future__ import annotations

import bisect
from typing import Literal, NamedTuple

UTF8_BOM = b"\xef\xbb\xbf"

Encoding = Literal["utf-8", "utf-16", "utf-32"]


class SourceError(Exception):
    """A file that cannot be analysed (not UTF-8, too large, unreadable)."""


class Position(NamedTuple):
    """A 0-based line and column (in the units asked for); a tuple, because editors ask for many."""

    line: int
    column: int


class SourceText:
    """A decoded Rust file with a line index.

    `data` is what tree-sitter parses: the file's bytes with a leading BOM
    blanked to spaces, so that byte offsets stay those of the file on disk.
    """

    __slots__ = ("data", "has_bom", "line_starts", "uses_crlf", "_text")

    def __init__(self, raw: bytes) -> None:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw.count(b"\n", 0, error.start) + 1
            raise SourceError(
                f"invalid UTF-8 at byte {error.start} (line {line}); "
                "safety-ls reads Rust sources as UTF-8, as rustc does"
            ) from None
        self.has_bom = raw.startswith(UTF8_BOM)
        self.data = b"   " + raw[3:] if self.has_bom else raw
        self.uses_crlf = b"\r\n" in raw
        starts = [0]
        find = raw.find
        index = find(b"\n")
        while index != -1:
            starts.append(index + 1)
            index = find(b"\n", index + 1)
        if self.has_bom:
            starts[0] = len(UTF8_BOM)
        self.line_starts = starts
        self._text: str | None = None

    def replaced(self, start: int, end: int, new: bytes) -> "SourceText":
        """This text with bytes [start, end) replaced by `new` (valid UTF-8), without re-scanning it all.

        Line starts before the edit are kept, those after it are shifted, and only the
        new text is searched for line breaks: an editor's keystroke costs O(lines), not O(bytes).
        """
        edited = SourceText.__new__(SourceText)
        edited.data = self.data[:start] + new + self.data[end:]
        edited.has_bom = self.has_bom
        edited._text = None
        delta = len(new) - (end - start)
        starts = self.line_starts
        first_after = bisect.bisect_right(starts, start)  # line starts kept unchanged: <= start
        last_after = bisect.bisect_right(starts, end)  # line starts beyond the replaced text
        inserted = []
        index = new.find(b"\n")
        while index != -1:
            inserted.append(start + index + 1)
            index = new.find(b"\n", index + 1)
        edited.line_starts = starts[:first_after] + inserted + [offset + delta for offset in starts[last_after:]]
        edited.uses_crlf = self.uses_crlf or b"\r\n" in new
        return edited

    @classmethod
    def from_text(cls, text: str) -> "SourceText":
        # A lone surrogate (possible in JSON from a UTF-16 editor) has no UTF-8 form: replace it.
        return cls(text.encode("utf-8", errors="replace"))

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.data.decode("utf-8")
        return self._text

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_of(self, offset: int) -> int:
        """0-based line containing byte `offset`."""
        return bisect.bisect_right(self.line_starts, offset) - 1

    def line_bounds(self, line: int) -> tuple[int, int]:
        """Byte range of `line` without its line terminator."""
        start = self.line_starts[line]
        if line + 1 < len(self.line_starts):
            end = self.line_starts[line + 1] - 1
            if end > start and self.data[end - 1 : end] == b"\r":
                end -= 1
        else:
            end = len(self.data)
        return start, end

    def line_bytes(self, line: int) -> bytes:
        start, end = self.line_bounds(line)
        return self.data[start:end]

    def line_text(self, line: int) -> str:
        return self.line_bytes(line).decode("utf-8", errors="replace")

    def position(self, offset: int, encoding: Encoding = "utf-32") -> Position:
        """Line and column of a byte offset; utf-32 counts characters."""
        line = self.line_of(offset)
        start = self.line_starts[line]
        offset = max(offset, start)
        if encoding == "utf-8":
            return Position(line, offset - start)
        prefix = self.data[start:offset]
        if prefix.isascii():
            return Position(line, len(prefix))
        chars = prefix.decode("utf-8", errors="replace")
        if encoding == "utf-32":
            return Position(line, len(chars))
        return Position(line, len(chars.encode("utf-16-le")) // 2)

    def offset(self, position: Position, encoding: Encoding = "utf-32") -> int:
        """Byte offset of a line/column; columns past the end clamp to it."""
        if position.line >= len(self.line_starts):
            return len(self.data)
        start, end = self.line_bounds(max(position.line, 0))
        if encoding == "utf-8":
            return min(start + max(position.column, 0), end)
        line = self.data[start:end]
        if line.isascii():
            return start + min(max(position.column, 0), len(line))
        chars = line.decode("utf-8", errors="replace")
        if encoding == "utf-16":
            units = 0
            for index, char in enumerate(chars):
                if units >= position.column:
                    return start + len(chars[:index].encode("utf-8"))
                units += 2 if ord(char) > 0xFFFF else 1
            return end
        return start + len(chars[: max(position.column, 0)].encode("utf-8"))
