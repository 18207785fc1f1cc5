r"""Source text: bytes as read, line offsets, and position conversions.

Everything in the engine works in byte offsets into the UTF-8 bytes that
tree-sitter parsed; positions for people (CLI columns in characters) and for
editors (UTF-8/16/32 code units) are derived here and nowhere else.

Two kinds of lines: rustc, tree-sitter and the rules count `\n` only, so the
command line's line numbers are rustc's. The LSP also counts a lone `\r` as a
line break, so an editor's positions (`lsp_position`, `lsp_offset`) use an index
that adds those; a text without a lone `\r` (nearly all) shares the first index.
"""

from __future__ import annotations

import bisect
import re
from typing import Literal, NamedTuple

UTF8_BOM = b"\xef\xbb\xbf"
_LEADING_WHITESPACE = re.compile(rb"[ \t\n\r\x0b\x0c]*")  # what bytes.lstrip() removes
_NON_ASCII = re.compile(rb"[\x80-\xff]")
# A column is counted by slicing the line up to it; beyond this many bytes (a generated file's one
# long line, thousands of findings on it) an index of the non-ASCII bytes answers instead.
_SHORT_PREFIX = 4096

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

    __slots__ = ("data", "has_bom", "line_starts", "uses_crlf", "lone_carriage_returns", "_lsp_line_starts", "_text", "_non_ascii")

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
        # Offsets of the `\r` no `\n` follows; counting first spares a CRLF file a search per line.
        self.lone_carriage_returns: tuple[int, ...] = (
            _lone_carriage_returns(raw, 0, len(raw)) if b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n") else ()
        )
        self._lsp_line_starts: list[int] | None = None
        self._text: str | None = None
        self._non_ascii: list[int] | None = None  # offsets of the non-ASCII bytes, once asked for

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
        edited.lone_carriage_returns = self._lone_carriage_returns_after(edited.data, start, end, len(new))
        edited._lsp_line_starts = None
        edited._non_ascii = None
        return edited

    def _lone_carriage_returns_after(self, data: bytes, start: int, end: int, inserted: int) -> tuple[int, ...]:
        r"""`lone_carriage_returns` of `data`, this text with [start, end) replaced by `inserted` bytes.

        Only a `\r` in the new bytes or just before them can change: the one before may have lost
        or gained the `\n` after it.
        """
        lone = self.lone_carriage_returns
        checked_from = max(start - 1, 0)
        if not lone and data.find(b"\r", checked_from, start + inserted) == -1:
            return ()
        kept = bisect.bisect_left(lone, checked_from)
        moved = bisect.bisect_left(lone, end)
        delta = inserted - (end - start)
        return (
            *lone[:kept],
            *_lone_carriage_returns(data, checked_from, start + inserted),
            *(offset + delta for offset in lone[moved:]),
        )

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
        return self._line_bounds(self.line_starts, line)

    def _line_bounds(self, starts: list[int], line: int) -> tuple[int, int]:
        start = starts[line]
        if line + 1 < len(starts):
            end = starts[line + 1] - 1  # the line break's last byte: `\n`, or a lone `\r` in the LSP's lines
            if end > start and self.data[end - 1 : end + 1] == b"\r\n":
                end -= 1
        else:
            end = len(self.data)
        return start, end

    def line_bytes(self, line: int) -> bytes:
        start, end = self.line_bounds(line)
        return self.data[start:end]

    def indentation_end(self, line: int) -> int:
        """Where `line`'s text begins after its leading whitespace (its end when it is all
        whitespace): `line_bytes(line).lstrip()` without copying a long line."""
        start, end = self.line_bounds(line)
        match = _LEADING_WHITESPACE.match(self.data, start, end)
        return match.end() if match is not None else start

    def line_text(self, line: int) -> str:
        return self.line_bytes(line).decode("utf-8", errors="replace")

    def _lsp_lines(self) -> list[int]:
        r"""Line starts as the LSP counts lines: after each `\n`, `\r\n` and lone `\r`."""
        if not self.lone_carriage_returns:
            return self.line_starts
        if self._lsp_line_starts is None:
            self._lsp_line_starts = sorted([*self.line_starts, *(offset + 1 for offset in self.lone_carriage_returns)])
        return self._lsp_line_starts

    def lsp_line_of(self, offset: int) -> int:
        r"""0-based line containing byte `offset`, a lone `\r` counted as a line break."""
        return bisect.bisect_right(self._lsp_lines(), offset) - 1

    def lsp_position(self, offset: int, encoding: Encoding) -> Position:
        r"""What `position` gives, in an editor's lines (a lone `\r` is a line break)."""
        return self._position(self._lsp_lines(), offset, encoding)

    def lsp_offset(self, position: Position, encoding: Encoding) -> int:
        r"""What `offset` gives, for an editor's position (a lone `\r` is a line break)."""
        return self._offset(self._lsp_lines(), position, encoding)

    def position(self, offset: int, encoding: Encoding = "utf-32") -> Position:
        """Line and column of a byte offset; utf-32 counts characters."""
        return self._position(self.line_starts, offset, encoding)

    def _position(self, starts: list[int], offset: int, encoding: Encoding) -> Position:
        line = bisect.bisect_right(starts, offset) - 1
        start = starts[line]
        offset = max(offset, start)
        if encoding == "utf-8" or (offset - start > _SHORT_PREFIX and self._ascii_between(start, offset)):
            return Position(line, offset - start)
        prefix = self.data[start:offset]
        if prefix.isascii():
            return Position(line, len(prefix))
        chars = prefix.decode("utf-8", errors="replace")
        if encoding == "utf-32":
            return Position(line, len(chars))
        return Position(line, len(chars.encode("utf-16-le")) // 2)

    def _ascii_between(self, start: int, end: int) -> bool:
        if self._non_ascii is None:
            self._non_ascii = [match.start() for match in _NON_ASCII.finditer(self.data)]
        index = bisect.bisect_left(self._non_ascii, start)
        return index == len(self._non_ascii) or self._non_ascii[index] >= end

    def offset(self, position: Position, encoding: Encoding = "utf-32") -> int:
        """Byte offset of a line/column; columns past the end clamp to it."""
        return self._offset(self.line_starts, position, encoding)

    def _offset(self, starts: list[int], position: Position, encoding: Encoding) -> int:
        if position.line >= len(starts):
            return len(self.data)
        start, end = self._line_bounds(starts, max(position.line, 0))
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


def _lone_carriage_returns(data: bytes, start: int, end: int) -> tuple[int, ...]:
    r"""Offsets of the `\r` in data[start:end] that no `\n` follows."""
    found = []
    index = data.find(b"\r", start, end)
    while index != -1:
        if data[index + 1 : index + 2] != b"\n":
            found.append(index)
        index = data.find(b"\r", index + 1, end)
    return tuple(found)
