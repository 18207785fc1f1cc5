"""The language server's side of GPU validation: the lens command starts a run in the background.

The run happens on a worker thread (the same `validate` and `map_validation`
as the CLI) while the server keeps answering; it reports `$/progress`, stops
when the client cancels that progress or the server shuts down, and its
findings are published as `gpu-sanitizer-error` diagnostics beside the
checker's own, and summed up in the launch lenses, until the next validation.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from safety_ls.core.findings import Diagnostic
from safety_ls.core.source import Position, SourceText
from safety_ls.gpu.runner import (
    NotConfigured,
    Validation,
    map_validation,
    require_configured,
    validate,
)
from safety_ls.lsp.documents import Document

if TYPE_CHECKING:
    from safety_ls.core.settings import Settings
    from safety_ls.lsp.server import SafetyLanguageServer

_tokens = itertools.count(1)
log = logging.getLogger(__name__)


@dataclass
class GpuResults:
    """The last validation's findings by file, and what the lenses say about it."""

    diagnostics: dict[Path, list[Diagnostic]] = field(default_factory=dict)
    summary: str | None = None  # for launches without a finding, e.g. "no finding here (memcheck) · 14:02"
    summary_time: str = ""
    failed: str | None = None
    running: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)  # of the run in progress

    def stop(self) -> None:
        """End a run in progress (the server is shutting down)."""
        self.cancel.set()

    def for_path(self, path: Path | None) -> list[Diagnostic]:
        return self.diagnostics.get(path.resolve(), []) if path is not None else []

    def lens_title(self, path: Path | None, line: int) -> str:
        """The lens over a launch on `line` (0-based)."""
        if self.running:
            return "GPU: validating…"
        here = [d for d in self.for_path(path) if d.line - 1 == line]
        if here:
            tools = sorted({d.message.split(":", 1)[0] for d in here})
            return f"GPU: {len(here)} finding{'s' if len(here) != 1 else ''} ({', '.join(tools)}) · {self.summary_time} · validate again"
        if self.failed:
            return "GPU: validation failed · validate again"
        if self.summary:
            return f"GPU: {self.summary} · {self.summary_time} · validate again"
        return "Validate on GPU"


def placed_in(document_source: SourceText, diagnostic: Diagnostic) -> Diagnostic:
    """A finding from the file on disk moved to the same line and column of the open document's text."""
    last = max(document_source.line_count - 1, 0)
    start = document_source.offset(Position(min(diagnostic.line - 1, last), diagnostic.column - 1))
    end = document_source.offset(Position(min(diagnostic.end_line - 1, last), diagnostic.end_column - 1))
    return replace(diagnostic, start=start, end=max(end, start))


def _summary(validation: Validation) -> str:
    """What a launch without findings says after a validation."""
    return f"no finding here ({', '.join(run.tool for run in validation.runs)})"


def start_validation(ls: "SafetyLanguageServer", path: Path | None) -> dict[str, Any]:
    """The `safety-ls.validateKernel` command: start a validation in the background and return at once.

    The outcome arrives as progress, diagnostics, lens titles and a `window/showMessage`. (The
    command does not wait for it: pygls cannot cancel a pending `workspace/executeCommand`, and
    a pending one breaks its `shutdown`.)
    """
    results: GpuResults = ls.gpu
    if results.running:
        return {"status": "busy", "message": "a GPU validation is already running"}
    settings: Settings = ls.settings_for(path)
    root = Path(settings.root) if settings.root else Path(ls.workspace.root_path or (path.parent if path else "."))
    try:
        require_configured(settings.gpu)
    except NotConfigured as error:
        ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=str(error)))
        return {"status": "not-configured", "message": str(error)}
    results.running = True
    results.cancel = threading.Event()
    asyncio.ensure_future(_run(ls, root, settings, results.cancel))
    return {"status": "started", "message": f"GPU validation started ({', '.join(settings.gpu.tools)})"}


async def _run(ls: "SafetyLanguageServer", root: Path, settings: "Settings", cancel: threading.Event) -> None:
    results: GpuResults = ls.gpu
    try:
        validation, mapped = await _run_with_progress(ls, root, settings, cancel)
    except Exception as error:  # noqa: BLE001 - a runner bug is shown, never kills the server
        log.exception("GPU validation failed")
        ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error, message=f"safety-ls: GPU validation failed: {error!r}"))
        return
    finally:
        results.running = False
    status = "cancelled" if validation.cancelled else "failed" if validation.problems else "errors" if mapped.count else "clean"
    message = _message(status, validation, mapped.count, len(mapped.unmapped))
    if status != "cancelled":
        previous = set(results.diagnostics)
        results.diagnostics = {file.resolve(): items for file, items in mapped.diagnostics.items()}
        results.failed = "; ".join(validation.problems) if status == "failed" else None
        results.summary = _summary(validation)
        results.summary_time = time.strftime("%H:%M")
        _publish(ls, previous | set(results.diagnostics))
    _refresh_lenses(ls)
    kind = lsp.MessageType.Error if status == "failed" else lsp.MessageType.Info
    ls.window_show_message(lsp.ShowMessageParams(type=kind, message=f"safety-ls: {message}"))


async def _run_with_progress(
    ls: "SafetyLanguageServer", root: Path, settings: "Settings", cancel: threading.Event
) -> tuple[Validation, Any]:
    """`validate` and `map_validation` on a daemon thread, reporting `$/progress`, which the client may cancel."""
    window = ls.client_capabilities.window if ls.client_capabilities else None
    token = f"safety-ls-gpu-{next(_tokens)}" if window is not None and window.work_done_progress else ""
    if token:
        try:
            await ls.work_done_progress.create_async(token)
        except Exception:  # noqa: BLE001 - a client that refuses the token still gets the result
            token = ""
    loop = asyncio.get_running_loop()

    def report(message: str, percentage: int | None) -> None:
        if token:
            value = lsp.WorkDoneProgressReport(message=message, percentage=percentage, cancellable=True)
            loop.call_soon_threadsafe(ls.work_done_progress.report, token, value)

    if token:
        ls.work_done_progress.begin(
            token, lsp.WorkDoneProgressBegin(title="safety-ls: GPU validation", cancellable=True, percentage=0)
        )
        cancelled_by_client = ls.work_done_progress.tokens.get(token)
        if cancelled_by_client is not None:  # `window/workDoneProgress/cancel`
            cancelled_by_client.add_done_callback(lambda future: cancel.set() if future.cancelled() else None)
    _refresh_lenses(ls)
    done: asyncio.Future[tuple[Validation, Any]] = loop.create_future()

    def work() -> None:
        try:
            validation = validate(root, settings, cancel=cancel, progress=report)
            outcome = (validation, map_validation(validation, settings, str))
            loop.call_soon_threadsafe(done.set_result, outcome)
        except BaseException as error:  # noqa: BLE001 - handed to the event loop
            loop.call_soon_threadsafe(done.set_exception, error)

    # A daemon thread: a server that exits without `shutdown` is not held up by a run (the run's
    # own process group is then ended by the parent-death signal, see process.py).
    threading.Thread(target=work, name="safety-ls-gpu", daemon=True).start()
    try:
        validation, mapped = await done
    finally:
        if token:
            ended = "cancelled" if cancel.is_set() else "done"
            ls.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=ended))
    return validation, mapped


def _message(status: str, validation: Validation, findings: int, unplaced: int) -> str:
    if status == "cancelled":
        return "GPU validation cancelled"
    if status == "failed":
        return "GPU validation failed: " + "; ".join(validation.problems)
    tools = ", ".join(run.tool for run in validation.runs)
    text = f"GPU validation ({tools}): {findings} finding(s) at launch sites" if findings else f"GPU validation ({tools}): no finding"
    if unplaced:
        text += f"; {unplaced} outside the workspace"
    return text


def _publish(ls: "SafetyLanguageServer", paths: set[Path]) -> None:
    """Publish every touched file: open ones with their own findings, closed ones with the GPU's alone."""
    if not ls.push_diagnostics:
        ls.ask_clients_to_pull()
        return
    by_path = {document.path.resolve(): document for document in ls.documents.values() if document.path is not None}
    for path in paths:
        document = by_path.get(path)
        if document is not None:
            ls.publish(document)
            continue
        uri = from_fs_path(str(path)) or str(path)
        try:
            closed = Document.open(uri, path, 0, path.read_bytes().decode("utf-8", "replace"))
        except OSError:
            continue
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=ls.lsp_diagnostics(closed)))


def _refresh_lenses(ls: "SafetyLanguageServer") -> None:
    workspace = ls.client_capabilities.workspace if ls.client_capabilities else None
    if workspace and workspace.code_lens and workspace.code_lens.refresh_support:
        ls.workspace_code_lens_refresh(None)

