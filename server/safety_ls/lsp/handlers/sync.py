"""Text sync: open, change, save, close. Edits are applied to the server's own documents and analysed after pending messages."""

from __future__ import annotations

import asyncio

from lsprotocol import types as lsp

from safety_ls.core.crate import forget_crates
from safety_ls.lsp.convert import path_of, position_of
from safety_ls.lsp.documents import Document
from safety_ls.lsp.language_server import SafetyLanguageServer


def on_open(server: SafetyLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    path = path_of(item.uri)
    limit = server.session.settings_for(path).max_file_size
    document = Document.open(item.uri, path, item.version, item.text, limit)
    server.session.documents[item.uri] = document
    server.refresh(document)


def on_change(server: SafetyLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    document = server.session.documents.get(params.text_document.uri)
    if document is None:
        return
    if params.text_document.version is not None and params.text_document.version < document.version:
        return  # out of order: an older version never replaces a newer one
    for change in params.content_changes:
        if isinstance(change, lsp.TextDocumentContentChangePartial):
            document.apply_change(position_of(change.range.start), position_of(change.range.end), change.text, server.encoding)
        else:
            document.apply_change(None, None, change.text, server.encoding)
    document.version = params.text_document.version
    asyncio.ensure_future(server.publish_soon(document.uri, document.version))


def on_save(server: SafetyLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
    # A client that cannot watch files (Neovim without a file watcher) still gets edited config
    # files read again: on any save, settings whose files changed on disk are reloaded.
    if server.session.config_changed():
        server.session.forget_configuration()
        server.reanalyse_all()
        return
    document = server.session.documents.get(params.text_document.uri)
    if document is not None:
        forget_crates()  # the saved file may change what its crate exports
        document.dirty = None
        server.refresh(document)


def on_close(server: SafetyLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
    server.session.documents.pop(params.text_document.uri, None)
    if server.push_diagnostics:
        server.publish_objects(params.text_document.uri, None, [])


def register(server: SafetyLanguageServer) -> None:
    server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)(on_open)
    server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)(on_change)
    server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)(on_save)
    server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)(on_close)
