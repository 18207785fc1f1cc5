"""The language server (pygls 2): diagnostics as you type, quick fixes, hover, lenses, settings.

Documents keep their own bytes, tree and line index (documents.py); an edit
re-parses incrementally and re-analyses only the function item it touched.
Diagnostics are published with the document's version, and a result computed
for an older version is dropped.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.protocol import language_server as pygls_language_server
from pygls.uris import from_fs_path, to_fs_path

from safety_ls import __version__
from safety_ls.config.loader import ConfigError, load_settings, settings_from_mapping
from safety_ls.config.templates import TemplateError, Templates
from safety_ls.core.crate import CrateIndex, crate_dir_of, crate_index, forget_crates
from safety_ls.core.findings import Diagnostic, Severity
from safety_ls.core.parsing import build_units
from safety_ls.core.settings import Settings
from safety_ls.core.source import Encoding, Position
from safety_ls.engine.analyze import check_path
from safety_ls.engine.discovery import rust_files
from safety_ls.facts.launches import LAUNCH_TRIGGER, find_launches
from safety_ls.fixes.alloc_wrapper import WrapperPlan
from safety_ls.fixes.apply import FileLocation, Fix, build_fixes
from safety_ls.lsp.audit import audit_folders
from safety_ls.lsp.documents import Document
from safety_ls.lsp.gpu import GpuResults, placed_in, start_validation
from safety_ls.rules import ALL_RULES

log = logging.getLogger(__name__)

FIX_ALL_KIND = "source.fixAll.safety-ls"
VALIDATE_COMMAND = "safety-ls.validateKernel"
FIX_ALL_COMMAND = "safety-ls.fixAll"
AUDIT_COMMAND = "safety-ls.auditWorkspace"
# Settings that belong to the editor integration, not to the checker's configuration.
CLIENT_ONLY_KEYS = frozenset({"workspace-scan", "trace", "server-path", "interpreter", "extra-args", "gpu-runner"})
# Quiet time (seconds) after a keystroke on broken syntax before the exact (fresh) re-parse.
RECONCILE_DELAY = float(os.environ.get("SAFETY_LS_RECONCILE_DELAY", "0.25"))
CONFIG_GLOBS = ("**/safety-ls.toml", "**/.safety-ls.toml", "**/Cargo.toml", "**/clippy.toml", "**/.clippy.toml")

_SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
    Severity.HINT: lsp.DiagnosticSeverity.Hint,
}
_ENCODINGS: dict[str, Encoding] = {"utf-8": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}


class _PreferUtf8(pygls_language_server.ServerCapabilitiesBuilder):
    """Negotiate UTF-8 positions whenever the client offers them (no re-encoding per position)."""

    @classmethod
    def choose_position_encoding(cls, client_capabilities: lsp.ClientCapabilities) -> lsp.PositionEncodingKind | str:
        offered = (client_capabilities.general.position_encodings or []) if client_capabilities.general else []
        if lsp.PositionEncodingKind.Utf8 in offered:
            return lsp.PositionEncodingKind.Utf8
        return lsp.PositionEncodingKind.Utf16


pygls_language_server.ServerCapabilitiesBuilder = _PreferUtf8  # type: ignore[misc]


class _OwnDocumentsProtocol(pygls_language_server.LanguageServerProtocol):
    """Text sync goes to the server's own documents (documents.py) only.

    pygls's workspace would keep a second copy and re-split all of its lines on every keystroke
    (about a millisecond on a 6,000-line file); nothing in safety-ls reads that copy.
    """

    @pygls_language_server.lsp_method(lsp.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: lsp.DidOpenTextDocumentParams) -> Iterator[Any]:
        yield from self._user_handler(lsp.TEXT_DOCUMENT_DID_OPEN, params)

    @pygls_language_server.lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: lsp.DidChangeTextDocumentParams) -> Iterator[Any]:
        yield from self._user_handler(lsp.TEXT_DOCUMENT_DID_CHANGE, params)

    @pygls_language_server.lsp_method(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: lsp.DidCloseTextDocumentParams) -> Iterator[Any]:
        yield from self._user_handler(lsp.TEXT_DOCUMENT_DID_CLOSE, params)

    def _user_handler(self, method: str, params: Any) -> Iterator[Any]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None


class SafetyLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "safety-ls",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=_OwnDocumentsProtocol,
        )
        self.documents: dict[str, Document] = {}
        self.client_settings: dict[str, Any] = {}
        self._settings: dict[Path, Settings] = {}
        self._resolved: dict[Path, Path] = {}
        self._converted: dict[tuple[Any, ...], lsp.Diagnostic] = {}
        self._json: dict[tuple[Any, ...], str] = {}
        self.workspace_scan = False
        # A client that pulls diagnostics would show pushed ones a second time: it gets pulls only,
        # and a refresh request when findings change without an edit (config, reconcile).
        self.push_diagnostics = True
        self.refresh_pulls = False
        self.gpu = GpuResults()  # the last GPU validation (the lens command)

    # --- settings ------------------------------------------------------------------------

    @property
    def encoding(self) -> Encoding:
        chosen = self.workspace.position_encoding or "utf-16"
        # PositionEncodingKind is a (str, Enum): on Python 3.11 str() of it is "PositionEncodingKind.Utf8",
        # which would silently fall back to UTF-16 after UTF-8 was negotiated; use its value.
        chosen = getattr(chosen, "value", chosen)
        return _ENCODINGS.get(chosen, "utf-16")

    def set_client_settings(self, values: Any) -> None:
        """Editor settings, validated like a config file; a bad one is shown and ignored."""
        if not isinstance(values, dict):
            return
        values = values.get("safety-ls", values) if isinstance(values.get("safety-ls"), dict) else values
        self.workspace_scan = bool(values.get("workspace-scan", values.get("workspaceScan", False)))
        checked = {key: value for key, value in values.items() if key not in CLIENT_ONLY_KEYS and key != "workspaceScan"}
        try:
            settings_from_mapping(checked)
        except ConfigError as error:
            self.report_error(f"safety-ls settings: {error}")
            return
        self.client_settings = checked
        self._settings.clear()

    def settings_for(self, path: Path | None) -> Settings:
        directory = path.parent if path is not None else Path(self.workspace.root_path or os.getcwd())
        if directory not in self._settings:
            try:
                settings = load_settings(directory)
            except ConfigError as error:
                self.report_error(str(error))
                settings = Settings()
            if self.client_settings:
                overrides = settings_from_mapping(self.client_settings)
                names = {key.replace("-", "_") for key in self.client_settings}
                settings = replace(
                    settings, **{f.name: getattr(overrides, f.name) for f in dataclass_fields(Settings) if f.name in names}
                )
            self._settings[directory] = settings
        return self._settings[directory]

    def forget_configuration(self) -> None:
        self._settings.clear()
        self._resolved.clear()
        forget_crates()

    def report_error(self, message: str) -> None:
        log.error(message)
        try:
            self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error, message=message))
        except Exception:  # noqa: BLE001 - before initialization there is no client to tell
            pass

    # --- documents and diagnostics -------------------------------------------------------

    def crate_of(self, document: Document) -> tuple[CrateIndex | None, Path | None]:
        if document.path is None:
            return None, None
        file = self._resolved.get(document.path)
        if file is None:  # resolving walks the path's links: once per path, not per keystroke
            file = self._resolved[document.path] = document.path.resolve()
        crate_dir = crate_dir_of(file)
        return (crate_index(crate_dir) if crate_dir is not None else None), file

    def refresh(self, document: Document, exact: bool = True) -> None:
        """Analyse what changed and publish, for the document's current version."""
        crate, file = self.crate_of(document)
        try:
            document.analyse(self.settings_for(document.path), crate, file, exact=exact)
        except Exception as error:  # a checker bug must not take the server down
            log.exception("analysis failed for %s", document.uri)
            self.report_error(f"safety-ls: analysis failed for {document.uri}: {error!r}")
            return
        self.publish(document)
        if not document.tree_is_exact:
            asyncio.ensure_future(self.reconcile_later(document.uri, document.version))

    async def reconcile_later(self, uri: str, version: int) -> None:
        """When typing pauses on broken syntax, re-parse afresh and publish again if that changes anything."""
        await asyncio.sleep(RECONCILE_DELAY)
        document = self.documents.get(uri)
        if document is None or document.version != version or document.tree_is_exact:
            return
        before = [(d.rule, d.start, d.end, d.message) for d in document.diagnostics]
        crate, file = self.crate_of(document)
        try:
            document.analyse(self.settings_for(document.path), crate, file, exact=True)
        except Exception:  # noqa: BLE001 - the published result stands
            log.exception("reconciling %s failed", uri)
            return
        if before != [(d.rule, d.start, d.end, d.message) for d in document.diagnostics]:
            self.publish(document)
            self.ask_clients_to_pull()

    def ask_clients_to_pull(self) -> None:
        """In pull mode, findings that changed without an edit reach the client only if it asks again."""
        if not self.push_diagnostics and self.refresh_pulls:
            self.workspace_diagnostic_refresh(None)

    def publish(self, document: Document) -> None:
        """Push the document's diagnostics, tagged with its version.

        This runs on every keystroke: the message is assembled from JSON text cached per
        diagnostic and written directly, because serializing a few hundred lsprotocol objects
        through cattrs (or even a few hundred dicts through json) costs more than analysing the edit.
        """
        if not self.push_diagnostics:
            return
        writer = getattr(self.protocol, "writer", None)
        if writer is None:  # no transport of ours (a pygls without one): the slower public API
            self.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(
                    uri=document.uri, version=document.version, diagnostics=self.lsp_diagnostics(document)
                )
            )
            return
        encoding = self.encoding
        diagnostics = ",".join(self.json_diagnostic(document, d, encoding) for d in self.all_diagnostics(document))
        body = (
            f'{{"jsonrpc":"2.0","method":"{lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS}","params":'
            f'{{"uri":{json.dumps(document.uri)},"version":{document.version},"diagnostics":[{diagnostics}]}}}}'
        ).encode("utf-8")
        written = writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        if inspect.isawaitable(written):
            asyncio.ensure_future(written)

    def json_diagnostic(self, document: Document, diagnostic: Diagnostic, encoding: Encoding) -> str:
        """One diagnostic as LSP JSON text, shared by every diagnostic with the same content."""
        key = (diagnostic.rule, diagnostic.severity, diagnostic.message, document.lsp_range(diagnostic, encoding))
        converted = self._json.get(key)
        if converted is None:
            line, column, end_line, end_column = key[3]
            converted = json.dumps(
                {
                    "range": {
                        "start": {"line": line, "character": column},
                        "end": {"line": end_line, "character": end_column},
                    },
                    "severity": _SEVERITY[diagnostic.severity].value,
                    "code": diagnostic.rule,
                    "source": "safety-ls",
                    "message": diagnostic.message,
                },
                separators=(",", ":"),
            )
            if len(self._json) > 50_000:
                self._json.clear()
            self._json[key] = converted
        return converted

    def all_diagnostics(self, document: Document) -> list[Diagnostic]:
        """The checker's findings and the last GPU validation's (placed by line in the current text)."""
        gpu = self.gpu.for_path(document.path)
        return document.diagnostics + [placed_in(document.source, d) for d in gpu] if gpu else document.diagnostics

    def lsp_diagnostics(self, document: Document) -> list[lsp.Diagnostic]:
        return [self.lsp_diagnostic(document, d) for d in self.all_diagnostics(document)]

    def lsp_range(self, document: Document, start: int, end: int) -> lsp.Range:
        first = document.source.position(start, self.encoding)
        last = document.source.position(max(end, start), self.encoding)
        return lsp.Range(lsp.Position(first.line, first.column), lsp.Position(last.line, last.column))

    def lsp_diagnostic(self, document: Document, diagnostic: Diagnostic) -> lsp.Diagnostic:
        # Building lsprotocol objects is the slow part: reuse the ones whose content is unchanged
        # (most of a file's diagnostics, from one keystroke to the next).
        key = (diagnostic.rule, diagnostic.severity, diagnostic.message, document.lsp_range(diagnostic, self.encoding))
        converted = self._converted.get(key)
        if converted is None:
            line, column, end_line, end_column = key[3]
            converted = lsp.Diagnostic(
                range=lsp.Range(lsp.Position(line, column), lsp.Position(end_line, end_column)),
                message=diagnostic.message,
                severity=_SEVERITY[diagnostic.severity],
                code=diagnostic.rule,
                source="safety-ls",
            )
            if len(self._converted) > 50_000:
                self._converted.clear()
            self._converted[key] = converted
        return converted

    async def publish_soon(self, uri: str, version: int) -> None:
        """Analyse after pending messages are read; drop the work if a newer version arrived."""
        await asyncio.sleep(0)
        document = self.documents.get(uri)
        if document is None or document.version != version:
            return
        self.refresh(document, exact=False)

    # --- fixes ---------------------------------------------------------------------------

    def fixes_for(self, document: Document) -> tuple[list[Fix], dict[Path, list[str]]]:
        """The document's fixes, and allocation wrappers they add to other files."""
        settings = self.settings_for(document.path)
        crate, file = self.crate_of(document)
        result = document.full_result(settings, crate, file)
        root = Path(settings.root) if settings.root else Path(self.workspace.root_path or os.getcwd())
        templates = Templates(root / settings.template_dir if settings.template_dir else None)
        location = None
        if document.path is not None:
            location = FileLocation(document.path, crate_dir_of(document.path), WrapperPlan(settings.alloc_wrapper_module))
        fixes = build_fixes(document.source, result.diagnostics, templates, location)
        for problem in templates.problems:
            self.report_error(f"{problem}; the built-in template was used")
        return fixes, (location.plan.pending if location is not None else {})

    def workspace_edit(
        self, document: Document, fixes: list[Fix], elsewhere: dict[Path, list[str]] | None = None
    ) -> lsp.WorkspaceEdit:
        edits = [
            lsp.TextEdit(range=self.lsp_range(document, edit.start, edit.end), new_text=edit.text)
            for fix in fixes
            for edit in fix.edits
        ]
        changes: list[lsp.TextDocumentEdit] = [
            lsp.TextDocumentEdit(
                text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=document.uri, version=document.version),
                edits=edits,
            )
        ]
        for path, wrappers in (elsewhere or {}).items():
            changes.append(self._append_edit(path, "".join(wrappers)))
        return lsp.WorkspaceEdit(document_changes=changes)

    def _append_edit(self, path: Path, text: str) -> lsp.TextDocumentEdit:
        uri = from_fs_path(str(path)) or str(path)
        open_document = self.documents.get(uri)
        if open_document is not None:
            end = len(open_document.source.data)
            position = open_document.source.position(end, self.encoding)
            version: int | None = open_document.version
        else:
            content = path.read_text(encoding="utf-8")
            lines = content.split("\n")
            position, version = Position(len(lines) - 1, len(lines[-1].encode("utf-16-le")) // 2), None
        at = lsp.Position(position.line, position.column)
        return lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
            edits=[lsp.TextEdit(range=lsp.Range(at, at), new_text=text)],
        )


server = SafetyLanguageServer()


def _path_of(uri: str) -> Path | None:
    path = to_fs_path(uri)
    return Path(path) if path and uri.startswith("file:") else None


def _position(position: lsp.Position) -> Position:
    return Position(position.line, position.character)


@server.feature(lsp.INITIALIZE)
def on_initialize(ls: SafetyLanguageServer, params: lsp.InitializeParams) -> None:
    ls.set_client_settings(params.initialization_options or {})
    text_document, workspace = params.capabilities.text_document, params.capabilities.workspace
    ls.push_diagnostics = text_document is None or text_document.diagnostic is None
    ls.refresh_pulls = bool(workspace and workspace.diagnostics and workspace.diagnostics.refresh_support)
    if params.process_id:
        asyncio.ensure_future(_exit_with_client(params.process_id))


async def _exit_with_client(pid: int) -> None:
    """Exit when the editor that started us is gone, even if it never said goodbye."""
    while True:
        await asyncio.sleep(3)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass


@server.feature(lsp.INITIALIZED)
async def on_initialized(ls: SafetyLanguageServer, params: lsp.InitializedParams) -> None:
    capabilities = ls.client_capabilities
    workspace = capabilities.workspace
    if workspace and workspace.did_change_watched_files and workspace.did_change_watched_files.dynamic_registration:
        watchers = [lsp.FileSystemWatcher(glob_pattern=glob) for glob in CONFIG_GLOBS]
        await ls.client_register_capability_async(
            lsp.RegistrationParams(
                registrations=[
                    lsp.Registration(
                        id="safety-ls-config-files",
                        method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                        register_options=lsp.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
                    )
                ]
            )
        )
    await _pull_configuration(ls)
    if ls.workspace_scan:
        await _scan_workspace(ls)


async def _pull_configuration(ls: SafetyLanguageServer) -> None:
    workspace = ls.client_capabilities.workspace
    if not (workspace and workspace.configuration):
        return
    try:
        values = await ls.workspace_configuration_async(
            lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="safety-ls")])
        )
    except Exception as error:  # noqa: BLE001 - a client that fails this request keeps its old settings
        log.warning("workspace/configuration failed: %s", error)
        return
    if values and isinstance(values[0], dict):
        ls.set_client_settings(values[0])


async def _scan_workspace(ls: SafetyLanguageServer) -> None:
    """Check every Rust file in the workspace, reporting progress; open documents are skipped."""
    root = ls.workspace.root_path
    if not root:
        return
    settings = ls.settings_for(Path(root) / "x.rs")
    files = list(rust_files([Path(root)], settings.exclude, Path(settings.root or root)))
    token = "safety-ls-workspace-scan"
    try:
        await ls.window_work_done_progress_create_async(lsp.WorkDoneProgressCreateParams(token=token))
    except Exception:  # noqa: BLE001 - progress is optional for the client
        token = ""
    if token:
        ls.progress(token, lsp.WorkDoneProgressBegin(title="safety-ls: checking workspace", percentage=0))
    for number, path in enumerate(files, start=1):
        uri = from_fs_path(str(path)) or str(path)
        if uri not in ls.documents:
            result = check_path(path, str(path), settings)
            if result.error is None and ls.push_diagnostics:
                document = Document.open(uri, path, 0, path.read_bytes().decode("utf-8", "replace"))
                document.diagnostics = result.diagnostics
                ls.text_document_publish_diagnostics(
                    lsp.PublishDiagnosticsParams(uri=uri, diagnostics=ls.lsp_diagnostics(document))
                )
        if token and (number % 25 == 0 or number == len(files)):
            ls.progress(
                token,
                lsp.WorkDoneProgressReport(message=f"{number}/{len(files)} files", percentage=100 * number // max(len(files), 1)),
            )
        await asyncio.sleep(0)
    if token:
        ls.progress(token, lsp.WorkDoneProgressEnd(message=f"checked {len(files)} files"))


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def on_open(ls: SafetyLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    document = Document.open(item.uri, _path_of(item.uri), item.version, item.text)
    ls.documents[item.uri] = document
    ls.refresh(document)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def on_change(ls: SafetyLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return
    if params.text_document.version is not None and params.text_document.version < document.version:
        return  # out of order: an older version never replaces a newer one
    for change in params.content_changes:
        if isinstance(change, lsp.TextDocumentContentChangePartial):
            document.apply_change(_position(change.range.start), _position(change.range.end), change.text, ls.encoding)
        else:
            document.apply_change(None, None, change.text, ls.encoding)
    document.version = params.text_document.version
    asyncio.ensure_future(ls.publish_soon(document.uri, document.version))


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def on_save(ls: SafetyLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
    document = ls.documents.get(params.text_document.uri)
    if document is not None:
        forget_crates()  # the saved file may change what its crate exports
        document.dirty = None
        ls.refresh(document)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def on_close(ls: SafetyLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
    ls.documents.pop(params.text_document.uri, None)
    if ls.push_diagnostics:
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


@server.feature(lsp.TEXT_DOCUMENT_DIAGNOSTIC, lsp.DiagnosticOptions(inter_file_dependencies=True, workspace_diagnostics=True))
def on_pull_diagnostics(ls: SafetyLanguageServer, params: lsp.DocumentDiagnosticParams) -> lsp.DocumentDiagnosticReport:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        path = _path_of(params.text_document.uri)
        if path is None or not path.is_file():
            return lsp.RelatedFullDocumentDiagnosticReport(items=[])
        document = Document.open(params.text_document.uri, path, 0, path.read_bytes().decode("utf-8", "replace"))
    if document.analysed_version != document.version or document.dirty:
        crate, file = ls.crate_of(document)
        document.analyse(ls.settings_for(document.path), crate, file)
    return lsp.RelatedFullDocumentDiagnosticReport(items=ls.lsp_diagnostics(document))


@server.feature(lsp.WORKSPACE_DIAGNOSTIC)
def on_workspace_diagnostics(ls: SafetyLanguageServer, params: lsp.WorkspaceDiagnosticParams) -> lsp.WorkspaceDiagnosticReport:
    items: list[lsp.WorkspaceDocumentDiagnosticReport] = []
    for document in ls.documents.values():
        if document.analysed_version != document.version or document.dirty:
            crate, file = ls.crate_of(document)
            document.analyse(ls.settings_for(document.path), crate, file)
        items.append(
            lsp.WorkspaceFullDocumentDiagnosticReport(
                uri=document.uri, version=document.version, items=ls.lsp_diagnostics(document)
            )
        )
    return lsp.WorkspaceDiagnosticReport(items=items)


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and (
        b.start.line,
        b.start.character,
    ) <= (a.end.line, a.end.character)


@server.feature(
    lsp.TEXT_DOCUMENT_CODE_ACTION,
    lsp.CodeActionOptions(
        code_action_kinds=[lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.RefactorRewrite, FIX_ALL_KIND],
        resolve_provider=False,
    ),
)
def on_code_action(ls: SafetyLanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return []
    try:
        fixes, elsewhere = ls.fixes_for(document)
    except TemplateError as error:
        ls.report_error(str(error))
        return []
    wanted = params.context.only
    actions: list[lsp.CodeAction] = []
    if not wanted or any(str(kind).startswith(lsp.CodeActionKind.QuickFix) or kind == lsp.CodeActionKind.RefactorRewrite for kind in wanted):
        for fix in fixes:
            ranges = [ls.lsp_range(document, d.start, d.end) for d in fix.diagnostics]
            if not any(_overlaps(r, params.range) for r in ranges):
                continue
            kind = lsp.CodeActionKind.RefactorRewrite if fix.rule == "unsafe-device-alloc" else lsp.CodeActionKind.QuickFix
            actions.append(
                lsp.CodeAction(
                    title=f"{fix.title} ({fix.rule})",
                    kind=kind,
                    diagnostics=[ls.lsp_diagnostic(document, d) for d in fix.diagnostics],
                    edit=ls.workspace_edit(document, [fix], elsewhere if fix.rule == "unsafe-device-alloc" else None),
                    is_preferred=kind == lsp.CodeActionKind.QuickFix,
                )
            )
    if fixes and (not wanted or any(str(kind).startswith("source") for kind in wanted)):
        actions.append(
            lsp.CodeAction(
                title="safety-ls: fix all",
                kind=FIX_ALL_KIND,
                edit=ls.workspace_edit(document, fixes, elsewhere),
            )
        )
    return actions


def _template_preview(ls: SafetyLanguageServer, document: Document, diagnostic: Diagnostic) -> str | None:
    request = diagnostic.data.get("fix") if diagnostic.data else None
    if not request or "template" not in request:
        return None
    try:
        lines = Templates().render(request["template"], request["context"])
    except TemplateError:
        return None
    return "\n".join(lines)


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def on_hover(ls: SafetyLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return None
    offset = document.source.offset(_position(params.position), ls.encoding)
    crate, file = ls.crate_of(document)
    result = document.full_result(ls.settings_for(document.path), crate, file)
    for diagnostic in result.diagnostics:
        if diagnostic.start <= offset <= max(diagnostic.end, diagnostic.start + 1):
            rule = ALL_RULES[diagnostic.rule]
            text = f"**safety-ls: `{rule.id}`** — {rule.summary}\n\n{rule.explanation}"
            preview = _template_preview(ls, document, diagnostic)
            if preview:
                text += f"\n\nThe quick fix inserts:\n\n```rust\n{preview}\n```"
            return lsp.Hover(
                contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
                range=ls.lsp_range(document, diagnostic.start, diagnostic.end),
            )
    line = document.source.line_text(document.source.line_of(offset))
    for rule in ALL_RULES.values():
        if rule.tag and f"{rule.tag}:" in line and "//" in line:
            return lsp.Hover(
                contents=lsp.MarkupContent(
                    kind=lsp.MarkupKind.Markdown,
                    value=f"**`// {rule.tag}:` annotation** (checked by `{rule.id}`)\n\n{rule.explanation}",
                )
            )
    return None


@server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)
def on_code_lens(ls: SafetyLanguageServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return []
    settings = ls.settings_for(document.path)
    unit = build_units(document.tree, document.source.data, LAUNCH_TRIGGER)
    lenses = []
    for site in find_launches(unit, settings.launch_patterns):
        line = document.source.line_of(site.start)
        title = ls.gpu.lens_title(document.path, line)
        lenses.append(
            lsp.CodeLens(
                range=ls.lsp_range(document, site.start, site.end),
                command=lsp.Command(title=title, command=VALIDATE_COMMAND, arguments=[document.uri, line]),
            )
        )
    return lenses


@server.command(VALIDATE_COMMAND)
def validate_kernel(ls: SafetyLanguageServer, *args: Any) -> dict[str, Any]:
    """Start the GPU validation in the background (args: uri, 0-based line of the launch)."""
    uri = args[0] if args and isinstance(args[0], str) else None
    return start_validation(ls, _path_of(uri) if uri else None)


@server.feature(lsp.SHUTDOWN)
def on_shutdown(ls: SafetyLanguageServer, params: None) -> None:
    ls.gpu.stop()


@server.command(FIX_ALL_COMMAND)
async def fix_all(ls: SafetyLanguageServer, *args: Any) -> bool:
    uri = args[0] if args else None
    document = ls.documents.get(uri) if isinstance(uri, str) else None
    if document is None:
        return False
    fixes, elsewhere = ls.fixes_for(document)
    if not fixes:
        return True
    result = await ls.workspace_apply_edit_async(
        lsp.ApplyWorkspaceEditParams(edit=ls.workspace_edit(document, fixes, elsewhere), label="safety-ls: fix all")
    )
    return bool(result.applied)


@server.command(AUDIT_COMMAND)
async def audit_workspace(ls: SafetyLanguageServer, *args: Any) -> dict[str, Any]:
    """The audit of the workspace folders: `{"markdown", "json", "htmlPath"}` (the same report as `safety-ls audit`)."""
    folders = [path for folder in ls.workspace.folders.values() if (path := _path_of(folder.uri)) is not None]
    return await audit_folders(ls, folders or [Path(ls.workspace.root_path or os.getcwd())])


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def on_configuration_change(ls: SafetyLanguageServer, params: lsp.DidChangeConfigurationParams) -> None:
    if isinstance(params.settings, dict) and params.settings:
        ls.set_client_settings(params.settings)
    else:
        await _pull_configuration(ls)
    _reanalyse_all(ls)


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def on_watched_files(ls: SafetyLanguageServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    ls.forget_configuration()
    _reanalyse_all(ls)


def _reanalyse_all(ls: SafetyLanguageServer) -> None:
    for document in ls.documents.values():
        document.dirty = None
        ls.refresh(document)
    ls.ask_clients_to_pull()


def serve() -> None:
    logging.basicConfig(level=logging.WARNING, format="safety-ls: %(levelname)s: %(message)s")
    server.start_io()
