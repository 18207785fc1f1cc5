"""The language server end to end: the real `safety-ls serve --stdio` process driven by pytest-lsp.

Each test starts its own server process (a pytest-lsp fixture) and initializes it
itself, so that it can choose the client's capabilities and initialization options.
Expected diagnostics are computed with `engine.analyze` on the text the client holds.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsp_lines import index_at, position_at, units
from lsprotocol import types as lsp
from pygls.protocol import default_converter
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from safety_ls.config.loader import settings_from_mapping
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze

pytestmark = pytest.mark.asyncio

FIXTURE = Path(__file__).parent.parent / "fixtures" / "lsp" / "realistic.rs"
TIMEOUT = 10.0

SMALL = """\
pub unsafe fn no_doc(p: *const u8) -> u8 {
    *p
}

fn f(n: usize, xs: &[f32]) -> u32 {
    let a = unsafe { g() };
    // SAFETY: <reason>
    let b = unsafe { g() };
    let e = xs.len() as u64;
    let c = n as u32;
    c
}
"""


def make_client() -> LanguageClient:
    """pytest-lsp's client, also recording every publishDiagnostics (with its version) in order."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []  # type: ignore[attr-defined]  # (uri, version, diagnostics), as received
    client.applied_edits = []  # type: ignore[attr-defined]

    def publish(client: LanguageClient, params: lsp.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append((params.uri, params.version, params.diagnostics))  # type: ignore[attr-defined]

    def apply_edit(client: LanguageClient, params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
        client.applied_edits.append(params.edit)  # type: ignore[attr-defined]
        return lsp.ApplyWorkspaceEditResult(applied=True)

    def register_capability(client: LanguageClient, params: lsp.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    def refresh_diagnostics(client: LanguageClient, params: None) -> None:
        client.refresh_requests += 1  # type: ignore[attr-defined]

    client.registrations = []  # type: ignore[attr-defined]
    client.refresh_requests = 0  # type: ignore[attr-defined]
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[lsp.WORKSPACE_DIAGNOSTIC_REFRESH] = refresh_diagnostics
    features[lsp.CLIENT_REGISTER_CAPABILITY] = register_capability
    features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    features[lsp.WORKSPACE_APPLY_EDIT] = apply_edit
    register_lsp_features(client, features)
    return client


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "safety_ls", "serve", "--stdio"], client_factory=make_client
    ),
)
async def client(lsp_client: LanguageClient):
    """A started, not yet initialized server: each test calls `initialize` with what it needs."""
    yield
    if lsp_client.capabilities is not None and lsp_client._server is not None and lsp_client._server.returncode is None:
        await asyncio.wait_for(lsp_client.shutdown_session(), TIMEOUT)


# --- helpers -------------------------------------------------------------------------------


async def initialize(
    client: LanguageClient,
    root: Path,
    *,
    encodings: list[str] | None = None,
    options: Any = None,
    watched_files: bool = False,
    pulls_diagnostics: bool = False,
) -> lsp.InitializeResult:
    general = lsp.GeneralClientCapabilities(position_encodings=encodings) if encodings is not None else None
    workspace = lsp.WorkspaceClientCapabilities(
        apply_edit=True,
        did_change_watched_files=lsp.DidChangeWatchedFilesClientCapabilities(dynamic_registration=watched_files),
        diagnostics=lsp.DiagnosticWorkspaceClientCapabilities(refresh_support=True) if pulls_diagnostics else None,
    )
    text_document = (
        lsp.TextDocumentClientCapabilities(diagnostic=lsp.DiagnosticClientCapabilities()) if pulls_diagnostics else None
    )
    params = lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(general=general, workspace=workspace, text_document=text_document),
        root_uri=from_fs_path(str(root)),
        workspace_folders=[lsp.WorkspaceFolder(uri=from_fs_path(str(root)), name="ws")],
        initialization_options=options,
    )
    return await asyncio.wait_for(client.initialize_session(params), TIMEOUT)


def publishes(client: LanguageClient, uri: str) -> list[tuple[int | None, list[lsp.Diagnostic]]]:
    return [(version, diagnostics) for u, version, diagnostics in client.published if u == uri]  # type: ignore[attr-defined]


async def wait_until(predicate, what: str, timeout: float = TIMEOUT) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def wait_for_version(client: LanguageClient, uri: str, version: int) -> list[lsp.Diagnostic]:
    await wait_until(
        lambda: any(v is not None and v >= version for v, _ in publishes(client, uri)), f"diagnostics for v{version}"
    )
    return [d for v, d in publishes(client, uri) if v == version][-1]


async def wait_for_publish_count(client: LanguageClient, uri: str, count: int) -> list[lsp.Diagnostic]:
    await wait_until(lambda: len(publishes(client, uri)) >= count, f"publish #{count}")
    return publishes(client, uri)[-1][1]


def assert_versions_never_go_back(client: LanguageClient, uri: str) -> None:
    versions = [v for v, _ in publishes(client, uri) if v is not None]
    assert versions == sorted(versions), f"an older version was published after a newer one: {versions}"


def apply_text_edits(text: str, edits: list[lsp.TextEdit], encoding: str = "utf-16") -> str:
    spans = sorted(
        ((index_at(text, e.range.start, encoding), index_at(text, e.range.end, encoding), e.new_text) for e in edits),
        key=lambda span: (span[0], span[1]),
        reverse=True,
    )
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


def expected(text: str, encoding: str = "utf-16", settings: Settings | None = None) -> list[tuple]:
    """What a fresh analysis of `text` gives, as the server should publish it (positions as the client counts them)."""
    data = text.encode("utf-8")
    result = analyze(SourceText(data), "x.rs", settings or Settings())
    found = []
    for d in result.diagnostics:
        start = position_at(text, len(data[: d.start].decode("utf-8")), encoding)
        end = position_at(text, len(data[: max(d.end, d.start)].decode("utf-8")), encoding)
        found.append((d.rule, start.line, start.character, end.line, end.character, d.message))
    return sorted(found)


def published_key(diagnostics: list[lsp.Diagnostic]) -> list[tuple]:
    return sorted(
        (d.code, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, d.message)
        for d in diagnostics
    )


def rules(diagnostics: list[lsp.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


async def open_document(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    path.write_text(text, encoding="utf-8")
    uri = from_fs_path(str(path))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "rust", version, text)))
    await wait_for_version(client, uri, version)
    return uri


def change(client: LanguageClient, uri: str, version: int, *changes: tuple[lsp.Range | None, str]) -> None:
    events: list[lsp.TextDocumentContentChangeEvent] = [
        lsp.TextDocumentContentChangeWholeDocument(text=text)
        if where is None
        else lsp.TextDocumentContentChangePartial(range=where, text=text)
        for where, text in changes
    ]
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(lsp.VersionedTextDocumentIdentifier(version=version, uri=uri), events)
    )


def insertion(text: str, index: int, new: str, encoding: str = "utf-16") -> tuple[lsp.Range, str]:
    at = position_at(text, index, encoding)
    return lsp.Range(at, at), new


async def assert_alive(client: LanguageClient, uri: str, text: str, encoding: str = "utf-16") -> None:
    report = await asyncio.wait_for(
        client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(lsp.TextDocumentIdentifier(uri))), TIMEOUT
    )
    assert published_key(report.items) == expected(text, encoding)


# --- initialize ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["utf-8"], "utf-8"),
        (["utf-16", "utf-8"], "utf-8"),
        (["utf-32", "utf-16", "utf-8"], "utf-8"),
        (["utf-16"], "utf-16"),
        (["utf-32", "utf-16"], "utf-16"),
        (["utf-32"], "utf-16"),
        ([], "utf-16"),
        (None, "utf-16"),
    ],
)
async def test_position_encoding_negotiation(client: LanguageClient, tmp_path: Path, offered, chosen):
    result = await initialize(client, tmp_path, encodings=offered)
    assert result.capabilities.position_encoding == chosen
    assert result.server_info is not None and result.server_info.name == "safety-ls"
    sync = result.capabilities.text_document_sync
    assert sync.change == lsp.TextDocumentSyncKind.Incremental


# --- diagnostics ---------------------------------------------------------------------------


async def test_open_publishes_version_1_with_expected_rules_and_ranges(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    uri = await open_document(client, tmp_path / "small.rs", SMALL)
    version, diagnostics = publishes(client, uri)[-1]
    assert version == 1
    assert rules(diagnostics) == sorted(
        ["missing-safety-doc", "undocumented-unsafe-block", "placeholder-annotation", "missing-cast", "missing-cast"]
    )
    by_rule = {(str(d.code), d.range.start.line): d for d in diagnostics}
    unsafe_block = by_rule[("undocumented-unsafe-block", 5)].range
    assert (unsafe_block.start.character, unsafe_block.end.line, unsafe_block.end.character) == (12, 5, 18)
    doc = by_rule[("missing-safety-doc", 0)].range
    assert (doc.start.character, doc.end.line, doc.end.character) == (0, 0, 20)
    cast = by_rule[("missing-cast", 8)].range
    assert (cast.start.character, cast.end.character) == (12, 27)
    assert all(d.source == "safety-ls" and d.severity == lsp.DiagnosticSeverity.Warning for d in diagnostics)
    assert published_key(diagnostics) == expected(SMALL)


async def test_typing_one_character_at_a_time(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    text = FIXTURE.read_text(encoding="utf-8")
    uri = await open_document(client, tmp_path / "typing.rs", text)
    # In the middle of `fn sizes`, before `let c = n as u32;`.
    index = text.index("    let d = xs.len() as u64;")
    version = 1
    for char in "    let z = unsafe { n as u16 };\n":
        version += 1
        change(client, uri, version, insertion(text, index, char))
        text = text[:index] + char + text[index:]
        index += 1
        diagnostics = await wait_for_version(client, uri, version)
        assert publishes(client, uri)[-1][0] == version
        assert_versions_never_go_back(client, uri)
    assert published_key(diagnostics) == expected(text)
    line = text[:index].count("\n") - 1
    assert {"undocumented-unsafe-block", "missing-cast"} <= {str(d.code) for d in diagnostics if d.range.start.line == line}


async def test_rapid_edits_end_with_the_last_versions_diagnostics(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    text = FIXTURE.read_text(encoding="utf-8")
    uri = await open_document(client, tmp_path / "rapid.rs", text)
    snippets = ["x", " as u32", "unsafe { g() }", "\n", "// SAFETY: x\n", ";", "→"]
    for number in range(50):
        version = number + 2
        if number % 7 == 3:  # a deletion
            start = (number * 211) % (len(text) - 10)
            end = start + 3
            at, to = position_at(text, start), position_at(text, end)
            change(client, uri, version, (lsp.Range(at, to), ""))
            text = text[:start] + text[end:]
        else:
            index = text.index("\n    ", (number * 137) % (len(text) - 200)) + 5
            new = snippets[number % len(snippets)]
            change(client, uri, version, insertion(text, index, new))
            text = text[:index] + new + text[index:]
    diagnostics = await wait_for_version(client, uri, 51)
    assert publishes(client, uri)[-1][0] == 51
    assert_versions_never_go_back(client, uri)
    assert published_key(diagnostics) == expected(text)


async def test_out_of_order_change_is_ignored(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    text = SMALL
    uri = await open_document(client, tmp_path / "order.rs", text, version=5)
    line_6 = text.index("    let a")
    change(client, uri, 3, insertion(text, line_6, "    let old = 1 as u8;\n"))  # older than 5: dropped
    change(client, uri, 6, insertion(text, line_6, "    // SAFETY: g has no preconditions\n"))
    text = text[:line_6] + "    // SAFETY: g has no preconditions\n" + text[line_6:]
    diagnostics = await wait_for_version(client, uri, 6)
    assert published_key(diagnostics) == expected(text)
    assert all(v != 3 for v, _ in publishes(client, uri))
    assert_versions_never_go_back(client, uri)
    await assert_alive(client, uri, text)


# --- code actions --------------------------------------------------------------------------


async def test_quick_fix_applied_client_side_removes_the_diagnostic(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    text = SMALL
    uri = await open_document(client, tmp_path / "fix.rs", text)
    diagnostics = publishes(client, uri)[-1][1]
    target = next(d for d in diagnostics if d.code == "undocumented-unsafe-block")
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri), target.range, lsp.CodeActionContext(diagnostics=[target])
        )
    )
    quick = [a for a in actions if a.kind == lsp.CodeActionKind.QuickFix]
    assert len(quick) == 1 and quick[0].is_preferred
    action = quick[0]
    assert "SAFETY" in action.title and "undocumented-unsafe-block" in action.title
    assert [d.range for d in action.diagnostics] == [target.range]
    (document_edit,) = action.edit.document_changes
    assert document_edit.text_document.uri == uri and document_edit.text_document.version == 1
    # The client applies the edit to its text and tells the server, as an editor does.
    changes = sorted(document_edit.edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True)
    change(client, uri, 2, *((e.range, e.new_text) for e in changes))
    text = apply_text_edits(text, document_edit.edits)
    assert text.split("\n")[target.range.start.line].startswith("    // SAFETY: <")
    assert text.split("\n")[target.range.start.line + 1] == "    let a = unsafe { g() };"
    after = await wait_for_version(client, uri, 2)
    assert published_key(after) == expected(text)
    assert not any(d.code == "undocumented-unsafe-block" and d.range.start.line == target.range.start.line + 1 for d in after)
    placeholders = [d for d in after if d.code == "placeholder-annotation"]
    assert target.range.start.line in {d.range.start.line for d in placeholders}


async def test_fix_all_source_action(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    text = SMALL
    uri = await open_document(client, tmp_path / "fixall.rs", text)
    whole = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri), whole, lsp.CodeActionContext(diagnostics=[], only=["source.fixAll.safety-ls"])
        )
    )
    assert [a.kind for a in actions] == ["source.fixAll.safety-ls"]
    (document_edit,) = actions[0].edit.document_changes
    assert len(document_edit.edits) == 4  # the doc section, the SAFETY comment and two CAST comments
    changes = sorted(document_edit.edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True)
    change(client, uri, 2, *((e.range, e.new_text) for e in changes))
    text = apply_text_edits(text, document_edit.edits)
    after = await wait_for_version(client, uri, 2)
    assert published_key(after) == expected(text)
    assert set(rules(after)) == {"placeholder-annotation"}
    # Nothing fixable is left: the source action is no longer offered.
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri), whole, lsp.CodeActionContext(diagnostics=[], only=["source.fixAll.safety-ls"])
        )
    )
    assert not actions
    # The fix-all command on a fresh document asks the client to apply the same kind of edit.
    other = await open_document(client, tmp_path / "fixall2.rs", SMALL)
    applied = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="safety-ls.fixAll", arguments=[other])
    )
    assert applied is True
    (edit,) = client.applied_edits  # type: ignore[attr-defined]
    assert len(edit.document_changes[0].edits) == 4


# --- positions -----------------------------------------------------------------------------

WIDE = """\
fn wide(n: usize) -> u32 {
    let s = "→ 😀"; let c = n as u32; /* → 😀 */ let d = unsafe { g() };
    c
}
"""


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8"])
async def test_positions_exact_after_wide_characters(client: LanguageClient, tmp_path: Path, encoding: str):
    result = await initialize(client, tmp_path, encodings=[encoding])
    assert result.capabilities.position_encoding == encoding
    uri = await open_document(client, tmp_path / f"wide-{encoding}.rs", WIDE)
    diagnostics = publishes(client, uri)[-1][1]
    line = WIDE.split("\n")[1]
    cast = next(d for d in diagnostics if d.code == "missing-cast")
    block = next(d for d in diagnostics if d.code == "undocumented-unsafe-block")
    cast_start = line.index("n as u32")
    assert (cast.range.start.line, cast.range.start.character) == (1, units(line[:cast_start], encoding))
    assert cast.range.end.character == units(line[: cast_start + len("n as u32")], encoding)
    block_start = line.index("unsafe")
    assert (block.range.start.character, block.range.end.character) == (
        units(line[:block_start], encoding),
        units(line[: block_start + 6], encoding),
    )
    if encoding == "utf-16":  # the emoji is two UTF-16 units, four UTF-8 bytes, one character
        assert cast.range.start.character == cast_start + 1
    else:
        assert cast.range.start.character == len(line[:cast_start].encode("utf-8"))
    assert published_key(diagnostics) == expected(WIDE, encoding)
    # Hover and edits after the emoji use the same units.
    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), block.range.start))
    assert hover is not None and "undocumented-unsafe-block" in hover.contents.value
    at = position_at(WIDE, WIDE.index("let d"), encoding)
    change(client, uri, 2, (lsp.Range(at, at), "// SAFETY: g is pure\n    "))
    text = WIDE.replace("let d", "// SAFETY: g is pure\n    let d")
    after = await wait_for_version(client, uri, 2)
    assert published_key(after) == expected(text, encoding)


# --- robustness ----------------------------------------------------------------------------


async def test_malformed_requests_leave_the_server_alive(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    text = WIDE
    uri = await open_document(client, tmp_path / "robust.rs", text)

    # A code action on a document that was never opened.
    missing = from_fs_path(str(tmp_path / "never-opened.rs"))
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(missing),
            lsp.Range(lsp.Position(0, 0), lsp.Position(0, 1)),
            lsp.CodeActionContext(diagnostics=[]),
        )
    )
    assert not actions
    # Hover past the end of the file, and past the end of a line.
    for position in (lsp.Position(10_000, 0), lsp.Position(0, 10_000)):
        hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), position))
        assert hover is None or isinstance(hover, lsp.Hover)
    # A hover in the middle of the emoji's surrogate pair (not a valid UTF-16 position).
    emoji = text.split("\n")[1].index("😀")
    middle = lsp.Position(1, units(text.split("\n")[1][:emoji], "utf-16") + 1)
    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), middle))
    assert hover is None or isinstance(hover, lsp.Hover)
    # A request the server does not know gets an error reply.
    with pytest.raises(Exception):
        await asyncio.wait_for(client.protocol.send_request_async("safety-ls/noSuchMethod", {}), TIMEOUT)
    await assert_alive(client, uri, text)

    # A change whose range lies past the end of the file, then one inside a surrogate pair.
    beyond = lsp.Position(500, 3)
    change(client, uri, 2, (lsp.Range(beyond, beyond), "fn tail() {}\n"))
    await wait_for_version(client, uri, 2)
    change(client, uri, 3, (lsp.Range(middle, middle), "x"))
    await wait_for_version(client, uri, 3)
    # Where those landed is the server's choice; the client resynchronises with the whole text.
    change(client, uri, 4, (None, text))
    diagnostics = await wait_for_version(client, uri, 4)
    assert published_key(diagnostics) == expected(text)
    await assert_alive(client, uri, text)


# --- pull diagnostics ----------------------------------------------------------------------


async def test_pull_diagnostics(client: LanguageClient, tmp_path: Path):
    result = await initialize(client, tmp_path)
    provider = result.capabilities.diagnostic_provider
    assert provider is not None and provider.workspace_diagnostics
    text = SMALL
    uri = await open_document(client, tmp_path / "pull.rs", text)
    report = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(lsp.TextDocumentIdentifier(uri)))
    assert report.kind == "full"
    assert published_key(report.items) == published_key(publishes(client, uri)[-1][1]) == expected(text)

    # After an edit the pull answers for the new text, whether or not the push has happened yet.
    index = text.index("    c\n}")
    change(client, uri, 2, insertion(text, index, "    let q = c as u8;\n"))
    text = text[:index] + "    let q = c as u8;\n" + text[index:]
    report = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(lsp.TextDocumentIdentifier(uri)))
    assert published_key(report.items) == expected(text)

    # A file on disk that is not open is read from disk.
    on_disk = tmp_path / "closed.rs"
    on_disk.write_text(WIDE, encoding="utf-8")
    report = await client.text_document_diagnostic_async(
        lsp.DocumentDiagnosticParams(lsp.TextDocumentIdentifier(from_fs_path(str(on_disk))))
    )
    assert published_key(report.items) == expected(WIDE)
    report = await client.text_document_diagnostic_async(
        lsp.DocumentDiagnosticParams(lsp.TextDocumentIdentifier(from_fs_path(str(tmp_path / "absent.rs"))))
    )
    assert list(report.items) == []

    workspace = await client.workspace_diagnostic_async(lsp.WorkspaceDiagnosticParams(previous_result_ids=[]))
    (item,) = workspace.items
    assert item.uri == uri and item.version == 2 and item.kind == "full"
    assert published_key(item.items) == expected(text)


# --- hover and lenses ----------------------------------------------------------------------


async def test_hover_shows_rule_and_template(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    uri = await open_document(client, tmp_path / "hover.rs", SMALL)
    block = next(d for d in publishes(client, uri)[-1][1] if d.code == "undocumented-unsafe-block")
    inside = lsp.Position(block.range.start.line, block.range.start.character + 2)
    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), inside))
    assert hover is not None and hover.contents.kind == lsp.MarkupKind.Markdown
    assert "`undocumented-unsafe-block`" in hover.contents.value
    assert "The quick fix inserts" in hover.contents.value and "// SAFETY:" in hover.contents.value
    assert hover.range == block.range
    cast = next(d for d in publishes(client, uri)[-1][1] if d.code == "missing-cast")
    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), cast.range.start))
    assert "`missing-cast`" in hover.contents.value and "// CAST:" in hover.contents.value
    # Not on a finding: no hover.
    nothing = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri), lsp.Position(len(SMALL.split("\n")) - 2, 0))
    )
    assert nothing is None


async def test_code_lens_on_kernel_launch_and_validate_command(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    text = FIXTURE.read_text(encoding="utf-8")
    uri = await open_document(client, tmp_path / "lens.rs", text)
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(lsp.TextDocumentIdentifier(uri)))
    launch_line = text[: text.index("unsafe { func.launch(cfg, (a, b)) }")].count("\n")
    assert [lens.range.start.line for lens in lenses] == [launch_line]
    (lens,) = lenses
    column = text.splitlines()[launch_line].index("launch(")
    assert lens.range.start.character == column and lens.range.end.character == column + len("launch")
    assert lens.command.command == "safety-ls.validateKernel" and lens.command.title == "Validate on GPU"
    assert list(lens.command.arguments) == [uri, launch_line]
    before = len(client.messages)
    answer = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=lens.command.command, arguments=lens.command.arguments)
    )
    assert answer["status"] == "not-configured" and "not configured" in answer["message"]
    await wait_until(lambda: len(client.messages) > before, "window/showMessage")
    assert "not configured" in client.messages[-1].message
    assert client.messages[-1].type == lsp.MessageType.Warning


# --- settings ------------------------------------------------------------------------------


async def test_initialization_options_ignore_a_rule(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path, options={"ignore": ["missing-cast"]})
    uri = await open_document(client, tmp_path / "ignore.rs", SMALL)
    diagnostics = publishes(client, uri)[-1][1]
    assert "missing-cast" not in rules(diagnostics)
    assert published_key(diagnostics) == expected(SMALL, settings=settings_from_mapping({"ignore": ["missing-cast"]}))


async def test_invalid_setting_is_reported_and_the_server_keeps_working(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path, options={"profile": "nope"})
    await wait_until(lambda: any(m.type == lsp.MessageType.Error for m in client.messages), "an error message")
    error = next(m for m in client.messages if m.type == lsp.MessageType.Error)
    assert "profile" in error.message and "nope" in error.message
    uri = await open_document(client, tmp_path / "invalid.rs", SMALL)
    assert published_key(publishes(client, uri)[-1][1]) == expected(SMALL)  # the defaults apply


async def test_client_that_pulls_gets_no_pushed_duplicates_and_a_refresh_on_config_change(
    client: LanguageClient, tmp_path: Path
):
    await initialize(client, tmp_path, pulls_diagnostics=True)
    path = tmp_path / "pulled.rs"
    path.write_text(SMALL, encoding="utf-8")
    uri = from_fs_path(str(path))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "rust", 1, SMALL)))
    pull = lambda: client.text_document_diagnostic_async(  # noqa: E731
        lsp.DocumentDiagnosticParams(lsp.TextDocumentIdentifier(uri))
    )
    assert published_key((await pull()).items) == expected(SMALL)
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"safety-ls": {"ignore": ["missing-cast", "placeholder-annotation"]}})
    )
    await wait_until(lambda: client.refresh_requests > 0, "workspace/diagnostic/refresh")  # type: ignore[attr-defined]
    assert set(rules((await pull()).items)) == {"missing-safety-doc", "undocumented-unsafe-block"}
    await asyncio.sleep(0.3)  # a push would have arrived by now
    assert publishes(client, uri) == []


async def test_did_change_configuration_takes_effect(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    uri = await open_document(client, tmp_path / "config.rs", SMALL)
    assert "missing-cast" in rules(publishes(client, uri)[-1][1])
    count = len(publishes(client, uri))
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"safety-ls": {"ignore": ["missing-cast", "placeholder-annotation"]}})
    )
    diagnostics = await wait_for_publish_count(client, uri, count + 1)
    assert set(rules(diagnostics)) == {"missing-safety-doc", "undocumented-unsafe-block"}
    # An invalid change is reported and the previous settings stay.
    count = len(publishes(client, uri))
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"ignore": ["no-such-rule"]}))
    diagnostics = await wait_for_publish_count(client, uri, count + 1)
    assert any("no-such-rule" in m.message for m in client.messages if m.type == lsp.MessageType.Error)
    assert set(rules(diagnostics)) == {"missing-safety-doc", "undocumented-unsafe-block"}


async def test_config_file_change_with_watched_files_notification(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path, watched_files=True)
    uri = await open_document(client, tmp_path / "watched.rs", SMALL)
    (registration,) = client.registrations  # type: ignore[attr-defined]
    assert registration.method == lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES
    globs = [watcher["globPattern"] for watcher in registration.register_options["watchers"]]
    assert "**/safety-ls.toml" in globs
    assert "undocumented-unsafe-block" in rules(publishes(client, uri)[-1][1])
    config = tmp_path / "safety-ls.toml"
    config.write_text('ignore = ["undocumented-unsafe-block"]\n', encoding="utf-8")
    count = len(publishes(client, uri))
    client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams(
            changes=[lsp.FileEvent(uri=from_fs_path(str(config)), type=lsp.FileChangeType.Created)]
        )
    )
    diagnostics = await wait_for_publish_count(client, uri, count + 1)
    assert "undocumented-unsafe-block" not in rules(diagnostics)
    assert "missing-cast" in rules(diagnostics)
    config.write_text('ignore = ["missing-cast"]\n', encoding="utf-8")
    client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams(
            changes=[lsp.FileEvent(uri=from_fs_path(str(config)), type=lsp.FileChangeType.Changed)]
        )
    )
    diagnostics = await wait_for_publish_count(client, uri, count + 2)
    assert "undocumented-unsafe-block" in rules(diagnostics) and "missing-cast" not in rules(diagnostics)


async def test_editing_a_cuda_file_rechecks_launches_against_the_new_kernel(client: LanguageClient, tmp_path: Path):
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "k"\nversion = "0.1.0"\n', encoding="utf-8")
    kernels = tmp_path / "kernels" / "scale.cu"
    kernels.parent.mkdir()
    kernels.write_text('extern "C" __global__ void scale(float* x, int n) {}\n', encoding="utf-8")
    (tmp_path / "src").mkdir()
    code = (
        "fn f(dev: &Dev, x: &Buf, n: i32) {\n"
        '    let k = dev.get_func("m", "scale").unwrap();\n'
        "    // SAFETY: parameters x, n; buffer sizes n elements; no aliasing; grid and block dims cover n.\n"
        "    unsafe { k.launch(cfg, (x, n)) }.unwrap();\n"
        "}\n"
    )
    await initialize(client, tmp_path, watched_files=True)
    uri = await open_document(client, tmp_path / "src" / "lib.rs", code)
    globs = [watcher["globPattern"] for watcher in client.registrations[0].register_options["watchers"]]  # type: ignore[attr-defined]
    assert "**/*.cu" in globs and "**/*.cuh" in globs
    assert "kernel-launch-mismatch" not in rules(publishes(client, uri)[-1][1])
    # The kernel gains a parameter on disk; the editor's file watcher tells the server.
    kernels.write_text('extern "C" __global__ void scale(float* x, int n, int stride) {}\n', encoding="utf-8")
    count = len(publishes(client, uri))
    client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(uri=from_fs_path(str(kernels)), type=lsp.FileChangeType.Changed)])
    )
    diagnostics = await wait_for_publish_count(client, uri, count + 1)
    (mismatch,) = [d for d in diagnostics if d.code == "kernel-launch-mismatch"]
    assert mismatch.message == "`scale` takes 3 parameter(s) (kernels/scale.cu:1) but this launch passes 2"


# --- process lifetime ----------------------------------------------------------------------


async def test_server_exits_after_exit_notification(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
    client.exit(None)
    code = await asyncio.wait_for(client._server.wait(), TIMEOUT)
    assert code == 0


async def test_server_exits_when_stdin_closes(client: LanguageClient, tmp_path: Path):
    await initialize(client, tmp_path)
    await open_document(client, tmp_path / "stdin.rs", SMALL)
    client._server.stdin.close()
    await asyncio.wait_for(client._server.wait(), TIMEOUT)
    assert client._server.returncode is not None


async def test_document_over_max_file_size_gets_one_notice_and_no_analysis(client: LanguageClient, tmp_path: Path):
    (tmp_path / "safety-ls.toml").write_text("max-file-size = 2000\n")
    await initialize(client, tmp_path)
    big = "fn f(n: usize) -> u32 { unsafe { n as u32 } }\n" * 100  # 4,700 bytes, findings on every line
    uri = await open_document(client, tmp_path / "big.rs", big)
    diagnostics = await wait_for_version(client, uri, 1)
    assert [str(d.code) for d in diagnostics] == ["max-file-size"]
    assert "not analysed" in diagnostics[0].message and "max-file-size" in diagnostics[0].message
    # Edits keep the text in sync: cutting it under the limit brings the findings back.
    end = position_at(big, len(big))
    change(client, uri, 2, (lsp.Range(position_at(big, 470), end), ""))
    diagnostics = await wait_for_version(client, uri, 2)
    assert sorted(set(rules(diagnostics))) == ["missing-cast", "undocumented-unsafe-block"]
    assert len(diagnostics) == 20
