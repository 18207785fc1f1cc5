"""Pulled diagnostics (document and workspace) and the optional workspace scan."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from safety_ls.engine.analyze import check_path
from safety_ls.engine.discovery import rust_files
from safety_ls.lsp.convert import path_of
from safety_ls.lsp.documents import Document
from safety_ls.lsp.language_server import SafetyLanguageServer
from safety_ls.lsp.progress import Progress


def on_pull_diagnostics(server: SafetyLanguageServer, params: lsp.DocumentDiagnosticParams) -> lsp.DocumentDiagnosticReport:
    document = server.session.documents.get(params.text_document.uri)
    if document is None:
        path = path_of(params.text_document.uri)
        if path is None or not path.is_file():
            return lsp.RelatedFullDocumentDiagnosticReport(items=[])
        limit = server.session.settings_for(path).max_file_size
        document = Document.open(params.text_document.uri, path, 0, path.read_bytes().decode("utf-8", "replace"), limit)
    server.session.analyse_if_stale(document)
    return lsp.RelatedFullDocumentDiagnosticReport(items=server.lsp_diagnostics(document))


def on_workspace_diagnostics(server: SafetyLanguageServer, params: lsp.WorkspaceDiagnosticParams) -> lsp.WorkspaceDiagnosticReport:
    items: list[lsp.WorkspaceDocumentDiagnosticReport] = []
    for document in server.session.documents.values():
        server.session.analyse_if_stale(document)
        items.append(
            lsp.WorkspaceFullDocumentDiagnosticReport(
                uri=document.uri, version=document.version, items=server.lsp_diagnostics(document)
            )
        )
    return lsp.WorkspaceDiagnosticReport(items=items)


async def scan_workspace(server: SafetyLanguageServer) -> None:
    """Check every Rust file in the workspace, reporting progress; open documents are skipped."""
    root = server.session.root
    settings = server.session.settings_for(root / "x.rs")
    files = list(rust_files([root], settings.exclude, Path(settings.root or root)))
    progress = await Progress.start(server, "workspace-scan", "safety-ls: checking workspace")
    for number, path in enumerate(files, start=1):
        uri = from_fs_path(str(path)) or str(path)
        if uri not in server.session.documents:
            result = check_path(path, str(path), settings)
            if result.error is None and server.push_diagnostics:
                document = Document.open(uri, path, 0, path.read_bytes().decode("utf-8", "replace"))
                document.diagnostics = result.diagnostics
                server.publish_objects(uri, None, server.lsp_diagnostics(document))
        if number % 25 == 0 or number == len(files):
            progress.report(f"{number}/{len(files)} files", 100 * number // max(len(files), 1))
        await asyncio.sleep(0)
    progress.end(f"checked {len(files)} files")


def register(server: SafetyLanguageServer) -> None:
    server.feature(
        lsp.TEXT_DOCUMENT_DIAGNOSTIC, lsp.DiagnosticOptions(inter_file_dependencies=True, workspace_diagnostics=True)
    )(on_pull_diagnostics)
    server.feature(lsp.WORKSPACE_DIAGNOSTIC)(on_workspace_diagnostics)
