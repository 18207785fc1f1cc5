"""Incremental analysis equals a fresh one: random edit sequences on a realistic Rust file.

The language server applies each edit to its bytes, its tree (`Tree.edit` + an
incremental re-parse) and its stored findings (shifted), then re-analyses only
the function item the edits touched. Whatever the edits, the findings must be
those of a fresh whole-file `analyze` of the same text: checked on
`documents.Document` directly, and through the real server over stdio.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lsp_lines import lines, position_at
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient
from safety_ls.core.settings import Settings
from safety_ls.core.source import Position, SourceText
from safety_ls.engine.analyze import analyze
from safety_ls.lsp.documents import Document
from safety_ls.lsp.stored_findings import lsp_span

FIXTURE = Path(__file__).parent.parent / "fixtures" / "lsp" / "realistic.rs"
TEXT = FIXTURE.read_text(encoding="utf-8")
SETTINGS = Settings()

SNIPPETS = [
    "x",
    " ",
    ";",
    "\n",
    "\r",  # a line break for the editor, not for rustc
    "\r\n",
    "unsafe {",
    "unsafe { g() }",
    "// SAFETY: x",
    "/*",
    "*/",
    '"',
    " as u32",
    "}",
    "{",
    "→",
    "😀",
    "// CAST: usize → u32, fits",
    "let v = n as u8;",
]

# (operation, line seed, column seed, snippet or length, analyse after this edit); seeds are
# taken modulo the current text's lines / the line's length, so examples shrink well.
edit_strategy = st.tuples(
    st.sampled_from(["insert", "insert", "insert", "delete", "delete_line", "insert_line"]),
    st.integers(0, 400),
    st.integers(0, 200),
    st.one_of(st.sampled_from(SNIPPETS), st.integers(1, 8)),
    st.booleans(),
)
edits_strategy = st.lists(edit_strategy, min_size=1, max_size=20)

# Found by this test: the incremental re-parse of text with a syntax error recovered
# differently from a fresh parse (`unsafe { *p }\n// SAFETY: x}\n as u32` became a cast
# in the fresh tree only), so the editor lacked a `missing-cast` that `safety-ls check` reported.
REGRESSION = [
    ("insert", 2, 11, "\n", True),
    ("insert", 13, 6, "}", True),
    ("insert", 23, 0, "// SAFETY: x", True),
    ("insert", 24, 0, " as u32", True),
]


def realise(text: str, edit: tuple) -> tuple[int, int, str]:
    """The edit as (start, end, new text) in character indices of `text`, on the editor's lines."""
    operation, line_seed, column_seed, payload, _ = edit
    spans = lines(text)
    line = line_seed % len(spans)
    line_start, line_end = spans[line]
    column = column_seed % (line_end - line_start + 1)
    snippet = payload if isinstance(payload, str) else "x"
    if operation == "insert":
        return line_start + column, line_start + column, snippet
    if operation == "delete":
        length = payload if isinstance(payload, int) else 1
        end = min(column + length, line_end - line_start)
        return line_start + column, line_start + end, ""
    if operation == "delete_line":
        return line_start, spans[line + 1][0] if line + 1 < len(spans) else len(text), ""
    return line_start, line_start, "    " + snippet + "\n"  # insert_line


def position(text: str, index: int, encoding: str) -> Position:
    at = position_at(text, index, encoding)
    return Position(at.line, at.character)


def fresh_key(data: bytes) -> list[tuple]:
    return key(analyze(SourceText(data), "x.rs", SETTINGS).diagnostics)


def published_ranges(document: Document, encoding) -> list[tuple]:
    """The ranges a keystroke publishes, carried across edits where the findings were converted before."""
    return [(rule, d.start, span) for (rule, _, _, span), d in zip(document.published(encoding), document.diagnostics, strict=True)]


def fresh_ranges(document: Document, encoding) -> list[tuple]:
    source = SourceText(document.source.data)
    return [
        (d.rule, d.start, (*source.lsp_position(d.start, encoding), *source.lsp_position(max(d.end, d.start), encoding)))
        for d in document.diagnostics
    ]


def key(diagnostics) -> list[tuple]:
    return sorted((d.rule, d.start, d.end, d.message, d.severity) for d in diagnostics)


# --- Document level ------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=edits_strategy, encoding=st.sampled_from(["utf-16", "utf-32"]))
@example(edits=REGRESSION, encoding="utf-32")
def test_document_incremental_equals_fresh(edits, encoding):
    document = Document.open("file:///realistic.rs", None, 1, TEXT)
    document.analyse(SETTINGS, None, None)
    text = TEXT
    for number, edit in enumerate(edits, start=2):
        start, end, new = realise(text, edit)
        document.apply_change(position(text, start, encoding), position(text, end, encoding), new, encoding)
        document.version = number
        text = text[:start] + new + text[end:]
        if edit[4]:
            document.analyse(SETTINGS, None, None, exact=False)  # a keystroke's analysis ...
            published_ranges(document, encoding)  # ... published, which caches the ranges carried by later edits
            document.analyse(SETTINGS, None, None)  # ... reconciled when typing pauses
            assert key(document.diagnostics) == fresh_key(document.source.data), f"after edit {number - 1}"
            assert published_ranges(document, encoding) == fresh_ranges(document, encoding), f"after edit {number - 1}"
    assert document.source.text == text
    document.analyse(SETTINGS, None, None)
    assert key(document.diagnostics) == fresh_key(document.source.data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    line_seed=st.integers(0, 400),
    column_seed=st.integers(0, 200),
    typed=st.lists(st.sampled_from(["x", " ", "\n", "\r", "\r\n", ";", "→", " as u32", "unsafe { g() }"]), min_size=1, max_size=15),
    encoding=st.sampled_from(["utf-16", "utf-32"]),
)
def test_keystrokes_in_one_place_publish_the_ranges_of_the_moved_findings(line_seed, column_seed, typed, encoding):
    """Typing in one place moves the findings below it only when they are read; what each keystroke
    publishes in between is what the findings, moved, would publish."""
    document = Document.open("file:///realistic.rs", None, 1, TEXT)
    document.analyse(SETTINGS, None, None)
    text = TEXT
    spans = lines(text)
    line_start, line_end = spans[line_seed % len(spans)]
    index = line_start + column_seed % (line_end - line_start + 1)
    for number, chunk in enumerate(typed, start=2):
        at = position(text, index, encoding)
        document.apply_change(at, at, chunk, encoding)
        document.version = number
        text = text[:index] + chunk + text[index:]
        index += len(chunk)
        document.analyse(SETTINGS, None, None, exact=False)
        published = document.published(encoding)
        moved = copy.deepcopy(document.findings).items()  # reading a copy leaves the moves pending
        source = document.source
        assert published == [(d.rule, d.severity, d.message, lsp_span(source, d.start, d.end, encoding)) for d in moved]
    document.analyse(SETTINGS, None, None)
    assert key(document.diagnostics) == fresh_key(document.source.data)


def test_regression_tree_matches_fresh_parse():
    """The exact tree the document keeps is the fresh parse of its text, syntax errors included."""
    from safety_ls.core.parsing import parse

    document = Document.open("file:///realistic.rs", None, 1, TEXT)
    text = TEXT
    for edit in REGRESSION:
        start, end, new = realise(text, edit)
        document.apply_change(position(text, start, "utf-32"), position(text, end, "utf-32"), new, "utf-32")
        text = text[:start] + new + text[end:]
        document.exact_tree()  # what analysis and code actions use; keystrokes reconcile to it
        assert str(document.tree.root_node) == str(parse(document.source.data).root_node)


# --- through the real server ---------------------------------------------------------------


# A short quiet period keeps the test fast; the server reads it from the environment.
RECONCILE_DELAY = 0.02


class Server:
    """The real server over stdio, driven synchronously from its own event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = LanguageClient("incremental-test", "1")
        self.published: dict[str, list[tuple[int | None, list[lsp.Diagnostic]]]] = {}

        @self.client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
            self.published.setdefault(params.uri, []).append((params.version, list(params.diagnostics)))

        environment = {**os.environ, "SAFETY_LS_RECONCILE_DELAY": str(RECONCILE_DELAY)}
        self.run(self.client.start_io(sys.executable, "-m", "safety_ls", "serve", "--stdio", env=environment))
        result = self.run(
            self.client.initialize_async(
                lsp.InitializeParams(
                    capabilities=lsp.ClientCapabilities(
                        general=lsp.GeneralClientCapabilities(position_encodings=[lsp.PositionEncodingKind.Utf16])
                    )
                )
            )
        )
        assert result.capabilities.position_encoding == lsp.PositionEncodingKind.Utf16
        self.client.initialized(lsp.InitializedParams())

    def run(self, awaitable, timeout: float = 20.0):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def wait_for_version(self, uri: str, version: int) -> list[lsp.Diagnostic]:
        """The settled diagnostics of `version`: its last publish once typing has paused
        long enough for the server to reconcile a keystroke on broken syntax."""

        async def poll() -> None:
            while not any(v is not None and v >= version for v, _ in self.published.get(uri, [])):
                await asyncio.sleep(0.005)
            await asyncio.sleep(RECONCILE_DELAY + 0.15)

        self.run(poll())
        versions = [v for v, _ in self.published[uri]]
        assert versions == sorted(versions), f"an older version was published after a newer one: {versions}"
        return [d for v, d in self.published[uri] if v == version][-1]

    def close(self) -> None:
        self.run(self.client.shutdown_async(None))
        self.client.exit(None)
        self.run(self.client.stop())
        self.loop.close()


@pytest.fixture(scope="module")
def server():
    running = Server()
    yield running
    running.close()


_uris = itertools.count()


def lsp_key(diagnostics: list[lsp.Diagnostic]) -> list[tuple]:
    return sorted(
        (str(d.code), d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, d.message, d.severity)
        for d in diagnostics
    )


_SEVERITY = {"error": 1, "warning": 2, "info": 3, "hint": 4}


def expected_lsp(text: str) -> list[tuple]:
    source = SourceText.from_text(text)
    found = []
    for d in analyze(source, "x.rs", SETTINGS).diagnostics:
        start, end = source.lsp_position(d.start, "utf-16"), source.lsp_position(max(d.end, d.start), "utf-16")
        found.append((d.rule, start.line, start.column, end.line, end.column, d.message, _SEVERITY[d.severity.value]))
    return sorted(found)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(edits=edits_strategy)
@example(edits=REGRESSION)
def test_server_incremental_equals_fresh(server: Server, edits):
    """Edits sent as didChange (some waited for, most not) end with a fresh analysis's diagnostics."""
    uri = f"untitled:incremental-{next(_uris)}.rs"
    client = server.client
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "rust", 1, TEXT)))
    server.wait_for_version(uri, 1)
    text = TEXT
    version = 1
    for edit in edits:
        start, end, new = realise(text, edit)
        at, to = position(text, start, "utf-16"), position(text, end, "utf-16")
        version += 1
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(version=version, uri=uri),
                [
                    lsp.TextDocumentContentChangePartial(
                        range=lsp.Range(lsp.Position(at.line, at.column), lsp.Position(to.line, to.column)), text=new
                    )
                ],
            )
        )
        text = text[:start] + new + text[end:]
        if edit[4]:  # wait for this version's diagnostics before the next edit
            assert lsp_key(server.wait_for_version(uri, version)) == expected_lsp(text), f"version {version}"
    assert lsp_key(server.wait_for_version(uri, version)) == expected_lsp(text)
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
