r"""SourceText's two kinds of lines: rustc's (`\n` only) and the LSP's (`\n`, `\r\n`, lone `\r`).

The LSP positions are checked against tests/support/lsp_lines.py (the client's side) in all three
position encodings, and the line index an edit keeps against a fresh one of the edited text.
"""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st
from lsp_lines import index_at, lines, position_at, units
from lsprotocol import types as lsp
from safety_ls.core.source import Position, SourceText

ENCODINGS = ("utf-8", "utf-16", "utf-32")
# Line breaks of every kind, and characters of one to four UTF-8 bytes (two UTF-16 units for the emoji).
texts = st.lists(st.sampled_from(["a", "é", "→", "😀", "\n", "\r", "\r\n"]), max_size=30).map("".join)


def byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


@given(text=texts, encoding=st.sampled_from(ENCODINGS), data=st.data())
def test_lsp_positions_are_the_clients(text: str, encoding: str, data: st.DataObject) -> None:
    source = SourceText(text.encode("utf-8"))
    index = data.draw(st.integers(0, len(text)))
    if text[index - 1 : index + 1] == "\r\n":
        index -= 1  # between `\r` and `\n` is no position an editor can name
    expected = position_at(text, index, encoding)
    assert source.lsp_position(byte_offset(text, index), encoding) == Position(expected.line, expected.character)
    assert source.lsp_offset(Position(expected.line, expected.character), encoding) == byte_offset(text, index)
    assert source.lsp_line_of(byte_offset(text, index)) == expected.line


# Lines longer than SourceText counts columns on by slicing: its index of non-ASCII bytes answers.
long_texts = st.tuples(texts, st.integers(4_000, 6_000), texts).map(lambda parts: parts[0] + "a" * parts[1] + parts[2])


@given(text=long_texts, encoding=st.sampled_from(ENCODINGS), data=st.data())
def test_positions_on_a_very_long_line_are_the_clients(text: str, encoding: str, data: st.DataObject) -> None:
    source = SourceText(text.encode("utf-8"))
    index = data.draw(st.integers(0, len(text)))
    if text[index - 1 : index + 1] == "\r\n":
        index -= 1
    expected = position_at(text, index, encoding)
    assert source.lsp_position(byte_offset(text, index), encoding) == Position(expected.line, expected.character)


@given(text=st.lists(st.sampled_from([" ", "\t", "\x0b", "\x0c", "a", "é", "\n", "\r\n"]), max_size=30).map("".join))
def test_the_indentation_ends_where_the_line_stripped_of_leading_whitespace_begins(text: str) -> None:
    source = SourceText(text.encode("utf-8"))
    for line in range(source.line_count):
        start, end = source.line_bounds(line)
        assert source.indentation_end(line) == end - len(source.line_bytes(line).lstrip())


@given(text=texts, encoding=st.sampled_from(ENCODINGS), line=st.integers(0, 50), character=st.integers(0, 50))
def test_lsp_offsets_are_the_clients_and_clamp_past_the_end(text: str, encoding: str, line: int, character: int) -> None:
    if line < len(lines(text)):
        start, end = lines(text)[line]
        # Inside a character (a UTF-8 byte, half a surrogate pair) is no position a client names.
        boundaries = {units(text[start:index], encoding) for index in range(start, end + 1)}
        assume(character in boundaries or character > units(text[start:end], encoding))
    source = SourceText(text.encode("utf-8"))
    wanted = index_at(text, lsp.Position(line, character), encoding)
    assert source.lsp_offset(Position(line, character), encoding) == byte_offset(text, wanted)


def test_rustc_lines_count_only_line_feeds() -> None:
    source = SourceText(b"a\rb\r\nc\nd")
    assert source.position(source.data.index(b"d")) == Position(2, 0)
    assert source.position(source.data.index(b"b")) == Position(0, 2)
    assert source.lsp_position(source.data.index(b"d"), "utf-32") == Position(3, 0)
    assert source.line_text(0) == "a\rb"


@given(text=texts, edit=st.tuples(st.integers(0, 40), st.integers(0, 40)), new=texts)
def test_an_edit_keeps_the_line_indexes_of_a_fresh_text(text: str, edit: tuple[int, int], new: str) -> None:
    start, end = sorted(min(point, len(text)) for point in edit)
    source = SourceText(text.encode("utf-8"))
    edited = source.replaced(byte_offset(text, start), byte_offset(text, end), new.encode("utf-8"))
    fresh = SourceText((text[:start] + new + text[end:]).encode("utf-8"))
    assert edited.data == fresh.data
    assert edited.line_starts == fresh.line_starts
    assert edited.lone_carriage_returns == fresh.lone_carriage_returns
    for offset in range(len(fresh.data) + 1):
        assert edited.lsp_line_of(offset) == fresh.lsp_line_of(offset)
