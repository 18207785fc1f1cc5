"""Hover: the rule behind a finding, with the template its quick fix inserts; the rule behind a tag."""

from __future__ import annotations

from lsprotocol import types as lsp

from safety_ls.config.templates import TemplateError, Templates
from safety_ls.core.findings import Diagnostic
from safety_ls.core.fix_requests import (
    CommentInsertion,
    DocInsertion,
    DocSectionCompletion,
)
from safety_ls.fixes.apply import render_lines
from safety_ls.lsp.convert import lsp_range, position_of
from safety_ls.lsp.language_server import SafetyLanguageServer
from safety_ls.rules import ALL_RULES


def _template_preview(diagnostic: Diagnostic) -> str | None:
    """What the finding's stored fix request inserts (it travels with the finding across edits)."""
    request = diagnostic.fix
    if not isinstance(request, (CommentInsertion, DocInsertion, DocSectionCompletion)):
        return None
    try:
        return "\n".join(render_lines(request, Templates()))
    except TemplateError:
        return None


def _markdown(value: str) -> lsp.MarkupContent:
    return lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=value)


def on_hover(server: SafetyLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
    document = server.session.documents.get(params.text_document.uri)
    if document is None:
        return None
    server.session.analyse_if_stale(document)
    offset = document.source.lsp_offset(position_of(params.position), server.encoding)
    # The stored findings carry their fix requests: no re-analysis for a hover.
    for diagnostic in document.diagnostics:
        rule = ALL_RULES.get(diagnostic.rule)  # None: the too-large notice, not a rule
        if rule is not None and diagnostic.start <= offset <= max(diagnostic.end, diagnostic.start + 1):
            text = f"**safety-ls: `{rule.id}`** — {rule.summary}\n\n{rule.explanation}"
            preview = _template_preview(diagnostic)
            if preview:
                text += f"\n\nThe quick fix inserts:\n\n```rust\n{preview}\n```"
            return lsp.Hover(contents=_markdown(text), range=lsp_range(document, diagnostic.start, diagnostic.end, server.encoding))
    line = document.source.line_text(document.source.line_of(offset))
    for rule in ALL_RULES.values():
        if rule.tag and f"{rule.tag}:" in line and "//" in line:
            return lsp.Hover(contents=_markdown(f"**`// {rule.tag}:` annotation** (checked by `{rule.id}`)\n\n{rule.explanation}"))
    return None


def register(server: SafetyLanguageServer) -> None:
    server.feature(lsp.TEXT_DOCUMENT_HOVER)(on_hover)
