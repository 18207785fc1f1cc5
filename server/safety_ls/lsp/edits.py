"""Fixes as LSP workspace edits: the document's own edits, and allocation wrappers added to other files."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from safety_ls.config.templates import Templates
from safety_ls.core.crate import crate_dir_of
from safety_ls.core.source import Encoding, Position
from safety_ls.fixes.alloc_wrapper import WrapperPlan
from safety_ls.fixes.apply import FileLocation, Fix, build_fixes
from safety_ls.lsp.convert import lsp_range
from safety_ls.lsp.documents import Document
from safety_ls.lsp.language_server import SafetyLanguageServer

Elsewhere = dict[Path, list[str]]


def fixes_for(server: SafetyLanguageServer, document: Document) -> tuple[list[Fix], Elsewhere]:
    """The document's fixes, and allocation wrappers they add to other files."""
    session = server.session
    settings = session.settings_for(document.path)
    crate, file = session.crate_of(document)
    result = document.full_result(settings, crate, file)
    root = session.workspace_root(settings)
    templates = Templates(root / settings.template_dir if settings.template_dir else None)
    location = None
    if document.path is not None:
        location = FileLocation(document.path, crate_dir_of(document.path), WrapperPlan(settings.alloc_wrapper_module))
    fixes = build_fixes(document.source, result.diagnostics, templates, location)
    for problem in templates.problems:
        server.report_error(f"{problem}; the built-in template was used")
    return fixes, (location.plan.pending if location is not None else {})


def workspace_edit(
    server: SafetyLanguageServer, document: Document, fixes: list[Fix], elsewhere: Elsewhere | None = None
) -> lsp.WorkspaceEdit:
    encoding = server.encoding
    edits = [
        lsp.TextEdit(range=lsp_range(document, edit.start, edit.end, encoding), new_text=edit.text)
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
        changes.append(_append_edit(server.session.documents, path, "".join(wrappers), encoding))
    return lsp.WorkspaceEdit(document_changes=changes)


def _append_edit(documents: dict[str, Document], path: Path, text: str, encoding: Encoding) -> lsp.TextDocumentEdit:
    uri = from_fs_path(str(path)) or str(path)
    open_document = documents.get(uri)
    if open_document is not None:
        end = len(open_document.source.data)
        position = open_document.source.position(end, encoding)
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
