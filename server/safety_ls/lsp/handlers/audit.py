"""The language server's "audit workspace" command: `safety-ls audit` over the workspace folders.

Files are audited one at a time between messages (the editor stays responsive), with progress;
open documents are audited as the editor holds them, unsaved edits included.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from safety_ls.audit.html import render_html
from safety_ls.audit.inventory import FileAudit, audit_path, audit_source
from safety_ls.audit.markdown import render_markdown
from safety_ls.audit.report import (
    AuditTarget,
    CrateInfo,
    build_report,
    plan_audit,
    today,
)
from safety_ls.config.templates import Templates
from safety_ls.core.files import prepare_cache_directory, write_text
from safety_ls.engine.cache import CACHE_DIRECTORY
from safety_ls.lsp.convert import path_of
from safety_ls.lsp.language_server import SafetyLanguageServer
from safety_ls.lsp.progress import Progress

AUDIT_COMMAND = "safety-ls.auditWorkspace"
AUDIT_PAGE = "audit.html"


def _write_audit_page(report: dict[str, Any], directory: Path) -> Path:
    """The HTML page under the workspace's cache directory, or the temporary directory when that is read-only."""
    page = render_html(report)
    cache = directory / CACHE_DIRECTORY
    try:
        prepare_cache_directory(cache, directory)
        return write_text(cache / AUDIT_PAGE, page, root=cache)
    except OSError:
        handle, name = tempfile.mkstemp(prefix="safety-ls-audit-", suffix=".html")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(page)
        return Path(name)


async def audit_folders(ls: SafetyLanguageServer, folders: list[Path]) -> dict[str, Any]:
    """The report of `safety-ls audit` over `folders`, with open documents as the editor holds them."""
    targets = [AuditTarget(folder, ls.session.settings_for(folder / "Cargo.toml")) for folder in folders]
    open_documents = {
        d.path.resolve(): d for d in ls.session.documents.values() if d.path is not None and d.error is None and not d.too_large
    }
    plan = plan_audit(targets)
    total = sum(len(files) for _, files in plan.work)
    progress = await Progress.start(ls, "audit", "safety-ls: auditing unsafe code")
    assigned: list[tuple[CrateInfo, FileAudit]] = []
    for target, files in plan.work:
        for path, display, crate in files:
            # An open file as the editor holds it (unsaved edits included), with its parse when that is exact.
            document = open_documents.get(path)
            if document is not None:
                tree = document.tree if document.tree_is_exact else None
                audit = audit_source(document.source, display, target.settings, tree, file=path)
            else:
                audit = audit_path(path, display, target.settings)
            assigned.append((crate, audit))
            if len(assigned) % 25 == 0:
                progress.report(f"{len(assigned)}/{total} files", 100 * len(assigned) // total)
            await asyncio.sleep(0)  # keep answering the editor between files
    progress.end(f"audited {total} files")
    report = build_report(plan.base, assigned, today(), unlisted=plan.unlisted)
    settings = targets[0].settings
    root = Path(settings.root) if settings.root else folders[0]
    templates = Templates(root / settings.template_dir if settings.template_dir else None)
    markdown = render_markdown(report, templates)
    for problem in templates.problems:
        ls.report_error(f"{problem}; the built-in template was used")
    return {"markdown": markdown, "json": report, "htmlPath": str(_write_audit_page(report, folders[0]))}


async def audit_workspace(ls: SafetyLanguageServer, *args: Any) -> dict[str, Any]:
    """The audit of the workspace folders: `{"markdown", "json", "htmlPath"}` (the same report as `safety-ls audit`)."""
    folders = [path for folder in ls.workspace.folders.values() if (path := path_of(folder.uri)) is not None]
    return await audit_folders(ls, folders or [ls.session.root])


def register(server: SafetyLanguageServer) -> None:
    server.command(AUDIT_COMMAND)(audit_workspace)
