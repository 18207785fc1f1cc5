"""Fixes as LSP workspace edits: the document's own edits, and allocation wrappers added to other files."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from safety_ls.config.templates import Templates
from safety_ls.core.crate_dirs import crate_dir_of
from safety_ls.core.source import Encoding, SourceText
from safety_ls.fixes.alloc_wrapper import WrapperPlan, wrapper_insertion
from safety_ls.fixes.apply import FileLocation, Fix, build_fixes
from safety_ls.lsp.convert import lsp_range
from safety_ls.lsp.documents import Document
from safety_ls.lsp.language_server import SafetyLanguageServer

Elsewhere = dict[Path, list[str]]


def fixes_for(server: SafetyLanguageServer, document: Document) -> tuple[list[Fix], Elsewhere]:
    """The document's fixes, and allocation wrappers they add to other files."""
    session = server.session
    settings = session.settings_for(document.path)
    # The stored findings carry their fix requests, shifted with every edit: no re-analysis.
    session.analyse_if_stale(document)
    root = session.workspace_root(settings)
    templates = Templates(root / settings.template_dir if settings.template_dir else None)
    location = None
    if document.path is not None:
        plan = WrapperPlan(settings.alloc_wrapper_module, workspace=root)  # never a file outside the workspace
        location = FileLocation(document.path, crate_dir_of(document.path), plan)
    fixes = build_fixes(document.source, document.diagnostics, templates, location)
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
    """The wrapper added to another file: where `fix` puts it (before any `#[cfg(test)]` module)."""
    uri = from_fs_path(str(path)) or str(path)
    open_document = documents.get(uri)
    source = open_document.source if open_document is not None else SourceText(path.read_bytes())
    newline = "\r\n" if b"\r\n" in source.data else "\n"
    offset, inserted = wrapper_insertion(source.data, text.replace("\n", newline), newline)
    position = source.lsp_position(offset, encoding)
    at = lsp.Position(position.line, position.column)
    return lsp.TextDocumentEdit(
        text_document=lsp.OptionalVersionedTextDocumentIdentifier(
            uri=uri, version=open_document.version if open_document is not None else None
        ),
        edits=[lsp.TextEdit(range=lsp.Range(at, at), new_text=inserted)],
    )
