"""Lone `\\r` line breaks through the real `safety-ls serve --stdio`: the LSP counts `\\n`, `\\r\\n` and a lone `\\r`.

rustc and the command line count `\\n` only; an editor shows a line per lone `\\r` too, so every
position the server sends or reads (diagnostics, edit ranges, hover, quick-fix edits) is in
those lines. Expected positions come from tests/support/lsp_lines.py, the client's side.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsp_lines import index_at, position_at
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient
from safety_ls.config.templates import Templates
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze
from safety_ls.fixes.apply import apply_edits, build_fixes
from test_lsp import (
    TIMEOUT,
    apply_text_edits,
    change,
    expected,
    initialize,
    make_client,
    open_document,
    published_key,
    publishes,
    wait_for_version,
)

pytestmark = pytest.mark.asyncio

# Old Mac line breaks (lone `\r`) mixed with `\n` and `\r\n`, wide characters on a lone-`\r` line.
MIXED = (
    "fn first() {}\r"
    "fn second() {}\r\r"
    "pub unsafe fn no_doc(p: *const u8) -> u8 {\r\n"
    "    *p\r\n"
    "}\n"
    "fn f(n: usize, xs: &[f32]) -> u32 {\n"
    '    let s = "→ 😀"; let c = n as u32;\r'
    "    let e = xs.len() as u64;\n"
    "    let a = unsafe { g() };\n"
    "    c\r"
    "}\n"
)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "safety_ls", "serve", "--stdio"], client_factory=make_client),
)
async def client(lsp_client: LanguageClient):
    yield
    if lsp_client.capabilities is not None and lsp_client._server is not None and lsp_client._server.returncode is None:
        await asyncio.wait_for(lsp_client.shutdown_session(), TIMEOUT)


def edit_at(text: str, start: int, end: int, new: str, encoding: str) -> tuple[lsp.Range, str]:
    return lsp.Range(position_at(text, start, encoding), position_at(text, end, encoding)), new


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_diagnostics_count_a_lone_carriage_return_as_a_line_break(client: LanguageClient, tmp_path: Path, encoding: str):
    await initialize(client, tmp_path, encodings=[encoding])
    uri = await open_document(client, tmp_path / "mixed.rs", MIXED)
    diagnostics = publishes(client, uri)[-1][1]
    assert published_key(diagnostics) == expected(MIXED, encoding)
    cast = next(d for d in diagnostics if d.code == "missing-cast" and "u32" in d.message)
    # Line 7 for the editor (0-based: "fn first", "fn second", an empty line, three lines of
    # `no_doc` and the signature of `f` come before it); line 4 for rustc, which counts `\n` only.
    assert cast.range.start.line == 7
    assert SourceText(MIXED.encode()).position(MIXED.encode().index(b"n as u32")).line == 4


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_incremental_edits_on_lone_carriage_return_lines_equal_a_fresh_open(
    client: LanguageClient, tmp_path: Path, encoding: str
):
    await initialize(client, tmp_path, encodings=[encoding])
    uri = await open_document(client, tmp_path / "edited.rs", MIXED)
    text = MIXED
    steps = [
        # A statement on a later line, below every kind of line break.
        lambda t: (t.index("    c\r"), t.index("    c\r"), "    let d = n as u16;\r"),
        # A `\n` after a lone `\r`: the two become one line break.
        lambda t: (t.index("fn second"), t.index("fn second"), "\n"),
        # A `\r\n` replaced by a lone `\r`, and a lone `\r` added before a `\n`.
        lambda t: (t.index("    *p\r\n") + 6, t.index("    *p\r\n") + 8, "\r"),
        lambda t: (t.index("u64;\n") + 4, t.index("u64;\n") + 4, "\r"),
        # A line split by a lone `\r` after the wide characters, and a range across lone `\r`s.
        lambda t: (t.index(" let c"), t.index(" let c") + 1, "\r    "),
        lambda t: (t.index("{}\r") + 2, t.index("pub unsafe"), "\r\r\r"),
    ]
    for version, step in enumerate(steps, start=2):
        start, end, new = step(text)
        change(client, uri, version, edit_at(text, start, end, new, encoding))
        text = text[:start] + new + text[end:]
        assert published_key(await wait_for_version(client, uri, version)) == expected(text, encoding), f"version {version}"
    fresh = await open_document(client, tmp_path / "fresh.rs", text)
    assert published_key(publishes(client, uri)[-1][1]) == published_key(publishes(client, fresh)[-1][1])


async def test_hover_and_quick_fix_ranges_on_lone_carriage_return_lines(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    uri = await open_document(client, tmp_path / "fix.rs", MIXED)
    diagnostics = publishes(client, uri)[-1][1]
    cast = next(d for d in diagnostics if d.code == "missing-cast" and "u32" in d.message)
    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), cast.range.start))
    assert hover is not None and "missing-cast" in hover.contents.value and hover.range == cast.range

    block = next(d for d in diagnostics if d.code == "undocumented-unsafe-block")
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(lsp.TextDocumentIdentifier(uri), block.range, lsp.CodeActionContext(diagnostics=[block]))
    )
    (quick,) = [a for a in actions if a.kind == lsp.CodeActionKind.QuickFix and "undocumented-unsafe-block" in a.title]
    (document_edit,) = quick.edit.document_changes
    # The client applies the edit in its lines; the result is the text the fix engine makes of the bytes.
    source = SourceText(MIXED.encode())
    fixes = build_fixes(source, analyze(source, "fix.rs", Settings()).diagnostics, Templates())
    (fix,) = [f for f in fixes if any(d.rule == "undocumented-unsafe-block" for d in f.diagnostics)]
    assert apply_text_edits(MIXED, document_edit.edits).encode() == apply_edits(source.data, fix.edits)
    # and the edit's place, read back, is the byte offset the engine chose
    (edit,) = document_edit.edits
    assert len(MIXED[: index_at(MIXED, edit.range.start)].encode()) == fix.edits[0].start
