"""The language server (pygls 2): the server object with every handler registered, and `serve`.

Documents keep their own bytes, tree and line index (documents.py); an edit re-parses
incrementally and re-analyses only the item it touched; diagnostics are published with the
document's version, and a result computed for an older version is dropped.
docs/architecture.md follows an edit from `didChange` to the published diagnostics.
"""

from __future__ import annotations

import logging

from safety_ls.lsp.handlers import (
    actions,
    audit,
    configuration,
    diagnostics,
    gpu,
    hover,
    lens,
    lifecycle,
    sync,
)
from safety_ls.lsp.language_server import SafetyLanguageServer
from safety_ls.lsp.protocol import serve_stdio

HANDLERS = (lifecycle, sync, diagnostics, actions, hover, lens, configuration, audit, gpu)


def build_server() -> SafetyLanguageServer:
    server = SafetyLanguageServer()
    for handlers in HANDLERS:
        handlers.register(server)
    return server


def serve() -> None:
    logging.basicConfig(level=logging.WARNING, format="safety-ls: %(levelname)s: %(message)s")
    serve_stdio(build_server())
