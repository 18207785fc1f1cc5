"""Code lenses over kernel launches: "Validate on GPU", then the last validation's result."""

from __future__ import annotations

from lsprotocol import types as lsp

from safety_ls.core.parsing import build_units
from safety_ls.facts.launches import LAUNCH_TRIGGER, find_launches
from safety_ls.lsp.convert import lsp_range
from safety_ls.lsp.handlers.gpu import VALIDATE_COMMAND
from safety_ls.lsp.language_server import SafetyLanguageServer


def on_code_lens(server: SafetyLanguageServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
    document = server.session.documents.get(params.text_document.uri)
    if document is None:
        return []
    settings = server.session.settings_for(document.path)
    unit = build_units(document.tree, document.source.data, LAUNCH_TRIGGER)
    lenses = []
    for site in find_launches(unit, settings.launch_patterns):
        line = document.source.line_of(site.start)
        lenses.append(
            lsp.CodeLens(
                range=lsp_range(document, site.start, site.end, server.encoding),
                command=lsp.Command(
                    title=server.gpu.lens_title(document.path, line), command=VALIDATE_COMMAND, arguments=[document.uri, line]
                ),
            )
        )
    return lenses


def register(server: SafetyLanguageServer) -> None:
    server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)(on_code_lens)
