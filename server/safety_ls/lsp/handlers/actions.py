"""Code actions (quick fixes, the allocation-wrapper refactor, fix all) and the fix-all command."""

from __future__ import annotations

from typing import Any

from lsprotocol import types as lsp

from safety_ls.config.templates import TemplateError
from safety_ls.lsp.convert import lsp_range
from safety_ls.lsp.edits import fixes_for, workspace_edit
from safety_ls.lsp.language_server import SafetyLanguageServer
from safety_ls.rules import ALL_RULES

FIX_ALL_KIND = "source.fixAll.safety-ls"
FIX_ALL_COMMAND = "safety-ls.fixAll"


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and (
        b.start.line,
        b.start.character,
    ) <= (a.end.line, a.end.character)


def _wants(only: list[str] | None, prefix: str) -> bool:
    return not only or any(str(kind).startswith(prefix) for kind in only)


def on_code_action(server: SafetyLanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    document = server.session.documents.get(params.text_document.uri)
    if document is None:
        return []
    try:
        fixes, elsewhere = fixes_for(server, document)
    except TemplateError as error:
        server.report_error(str(error))
        return []
    only = params.context.only
    encoding = server.encoding
    actions: list[lsp.CodeAction] = []
    if _wants(only, lsp.CodeActionKind.QuickFix) or _wants(only, lsp.CodeActionKind.RefactorRewrite):
        for fix in fixes:
            ranges = [lsp_range(document, d.start, d.end, encoding) for d in fix.diagnostics]
            if not any(_overlaps(r, params.range) for r in ranges):
                continue
            refactor = ALL_RULES[fix.rule].fix_rewrites_code
            kind = lsp.CodeActionKind.RefactorRewrite if refactor else lsp.CodeActionKind.QuickFix
            actions.append(
                lsp.CodeAction(
                    title=f"{fix.title} ({fix.rule})",
                    kind=kind,
                    diagnostics=[server.converter.lsp_object(document, d, encoding) for d in fix.diagnostics],
                    edit=workspace_edit(server, document, [fix], elsewhere if refactor else None),
                    is_preferred=not refactor,
                )
            )
    if fixes and _wants(only, "source"):
        actions.append(
            lsp.CodeAction(title="safety-ls: fix all", kind=FIX_ALL_KIND, edit=workspace_edit(server, document, fixes, elsewhere))
        )
    return actions


async def fix_all(server: SafetyLanguageServer, *args: Any) -> bool:
    uri = args[0] if args else None
    document = server.session.documents.get(uri) if isinstance(uri, str) else None
    if document is None:
        return False
    fixes, elsewhere = fixes_for(server, document)
    if not fixes:
        return True
    result = await server.workspace_apply_edit_async(
        lsp.ApplyWorkspaceEditParams(edit=workspace_edit(server, document, fixes, elsewhere), label="safety-ls: fix all")
    )
    return bool(result.applied)


def register(server: SafetyLanguageServer) -> None:
    server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(
            code_action_kinds=[lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.RefactorRewrite, FIX_ALL_KIND],
            resolve_provider=False,
        ),
    )(on_code_action)
    server.command(FIX_ALL_COMMAND)(fix_all)
