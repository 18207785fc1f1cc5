"""An open document's findings across edits, and the LSP ranges they are published with.

Every keystroke moves the findings below it. Moving each one (a new Diagnostic and fix
request) cost about a millisecond per keystroke on a 6,000-line file, so the findings after
an edit are moved lazily instead: they carry one pending move (bytes, and the client's lines
of their converted ranges), which further typing in the same gap adds to. Reading the
findings (`items`) applies it; publishing (`published`) does not need to.
"""

from __future__ import annotations

import bisect

from safety_ls.core.findings import Diagnostic, Severity
from safety_ls.core.source import Encoding, SourceText

LspRange = tuple[int, int, int, int]  # start line, start column, end line, end column
# What a published diagnostic is made of: rule, severity, message, range.
Published = tuple[str, Severity, str, LspRange]


def lsp_span(source: SourceText, start: int, end: int, encoding: Encoding) -> LspRange:
    """Bytes [start, end) in the client's lines and columns; an end before the start is the start."""
    first = source.lsp_position(start, encoding)
    last = source.lsp_position(max(end, start), encoding)
    return (first.line, first.column, last.line, last.column)


def _start(diagnostic: Diagnostic) -> int:
    return diagnostic.start


def _below(span: LspRange | None, edited_line: int, line_delta: int) -> LspRange | None:
    """A converted range after an edit: below the edited line only the line numbers move; on it,
    columns change too, so it is converted again."""
    if span is None or span[0] <= edited_line:
        return None
    return (span[0] + line_delta, span[1], span[2] + line_delta, span[3])


class StoredFindings:
    """Findings sorted by start, those from `_moved_from` on still to be moved by `_bytes` bytes."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []
        # Each item's range in `_encoding`, once converted (None: not yet). A moved item's range
        # is kept as of its stored offsets: `_lines` client lines above where it now is.
        self._ranges: list[LspRange | None] = []
        self._encoding: Encoding | None = None
        self._moved_from = 0
        self._bytes = 0
        self._lines = 0

    def items(self) -> list[Diagnostic]:
        """The findings at their current offsets."""
        self._settle()
        return self._items

    def replace(self, items: list[Diagnostic]) -> None:
        """All findings anew (sorted by start): a whole-file analysis."""
        self._items, self._ranges = items, [None] * len(items)
        self._moved_from, self._bytes, self._lines = len(items), 0, 0

    def replace_region(self, region: tuple[int, int], found: list[Diagnostic]) -> None:
        """The findings starting in `region` (current offsets) replaced by `found`."""
        low, high = region
        moved = self._moved_from
        if moved < len(self._items) and self._items[moved].start + self._bytes < low:
            self._settle()  # the region lies past the moved findings' start: keep it simple
            moved = self._moved_from
        items, ranges = self._items, self._ranges
        # Findings before the moved ones are not moved: their stored offsets are current.
        before = [i for i in range(moved) if items[i].start < low]
        after = [i for i in range(moved) if items[i].start >= high]
        # The moved findings all start after the region's start: those in it come first.
        kept_from = bisect.bisect_left(items, high - self._bytes, lo=moved, key=_start)
        found = sorted(found, key=lambda d: (d.start, d.rule))
        self._items = [items[i] for i in before] + found + [items[i] for i in after] + items[kept_from:]
        self._ranges = [ranges[i] for i in before] + [None] * len(found) + [ranges[i] for i in after] + ranges[kept_from:]
        self._moved_from = len(before) + len(found) + len(after)

    def shift(self, start: int, old_end: int, new_end: int, old_end_line: int, line_delta: int) -> None:
        """After bytes [start, old_end) became [start, new_end) and client lines below `old_end_line`
        moved by `line_delta`: findings before the edit stay, those after it move, and those
        overlapping it are dropped (re-analysis of the region brings them back)."""
        items = self._items
        if self._bytes == 0 and self._lines == 0:  # nothing to move yet: those after this edit will be
            self._moved_from = bisect.bisect_left(items, old_end, key=_start)
        elif self._moved_from < len(items) and items[self._moved_from].start + self._bytes < old_end:
            self._settle()  # the edit is among the findings still to move, which would need two moves
            self._moved_from = bisect.bisect_left(items, old_end, key=_start)
        moved, ranges, delta = self._moved_from, self._ranges, new_end - old_end
        first_after = bisect.bisect_left(items, old_end, hi=moved, key=_start)
        kept = [i for i in range(first_after) if items[i].end <= start and items[i].start < start]
        # The others after the edit (a re-analysed item's findings below the cursor) are few: moved now.
        after = range(first_after, moved)
        self._items = [items[i] for i in kept] + [items[i].moved(delta) for i in after] + items[moved:]
        self._ranges = (
            # A range ending where the edit starts may end just after a `\r` whose `\n` the edit adds
            # or removes, which moves that end to another line: it is converted again.
            [ranges[i] if items[i].end < start else None for i in kept]
            + [_below(ranges[i], old_end_line, line_delta) for i in after]
            + ranges[moved:]
        )
        self._moved_from = len(kept) + len(after)
        self._bytes += delta
        for index in range(self._moved_from, len(self._items)):
            span = self._ranges[index]
            if span is not None and span[0] + self._lines > old_end_line:
                break  # sorted by start: the findings after it are below the edited line too
            self._ranges[index] = None
        self._lines += line_delta

    def published(self, source: SourceText, encoding: Encoding) -> list[Published]:
        """Each finding as it is published, its range converted only where no earlier one holds."""
        if encoding != self._encoding:
            self._ranges, self._encoding = [None] * len(self._items), encoding
        ranges, moved, lines = self._ranges, self._moved_from, self._lines
        out = []
        for index, diagnostic in enumerate(self._items):
            span = ranges[index]
            if index < moved:
                if span is None:
                    span = ranges[index] = lsp_span(source, diagnostic.start, diagnostic.end, encoding)
            elif span is None:
                line, column, end_line, end_column = span = lsp_span(
                    source, diagnostic.start + self._bytes, diagnostic.end + self._bytes, encoding
                )
                ranges[index] = (line - lines, column, end_line - lines, end_column)
            elif lines:
                span = (span[0] + lines, span[1], span[2] + lines, span[3])
            out.append((diagnostic.rule, diagnostic.severity, diagnostic.message, span))
        return out

    def _settle(self) -> None:
        """Move the findings that are still to be moved, and their ranges."""
        moved, delta, lines = self._moved_from, self._bytes, self._lines
        if moved == len(self._items):
            self._bytes = self._lines = 0
            return
        self._items[moved:] = [diagnostic.moved(delta) for diagnostic in self._items[moved:]]
        if lines:
            self._ranges[moved:] = [
                None if span is None else (span[0] + lines, span[1], span[2] + lines, span[3]) for span in self._ranges[moved:]
            ]
        self._moved_from, self._bytes, self._lines = len(self._items), 0, 0
