"""The language server's side of GPU validation: the lens command starts a run in the background.

The run happens on a worker thread (the same `validate` and `map_validation`
as the CLI) while the server keeps answering; it reports `$/progress`, stops
when the client cancels that progress or the server shuts down, and its
findings are published as `gpu-sanitizer-error` diagnostics beside the
checker's own, and summed up in the launch lenses, until the next validation.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from safety_ls.core.settings import Settings
from safety_ls.gpu.runner import (
    NotConfigured,
    Validation,
    map_validation,
    require_configured,
    validate,
)
from safety_ls.lsp.convert import path_of
from safety_ls.lsp.documents import Document
from safety_ls.lsp.gpu_results import GpuResults
from safety_ls.lsp.language_server import SafetyLanguageServer
from safety_ls.lsp.progress import Progress

VALIDATE_COMMAND = "safety-ls.validateKernel"

log = logging.getLogger(__name__)


def _summary(validation: Validation) -> str:
    """What a launch without findings says after a validation."""
    return f"no finding here ({', '.join(run.tool for run in validation.runs)})"


def start_validation(ls: SafetyLanguageServer, path: Path | None) -> dict[str, Any]:
    """The `safety-ls.validateKernel` command: start a validation in the background and return at once.

    The outcome arrives as progress, diagnostics, lens titles and a `window/showMessage`. (The
    command does not wait for it: pygls cannot cancel a pending `workspace/executeCommand`, and
    a pending one breaks its `shutdown`.)
    """
    results: GpuResults = ls.gpu
    if not ls.session.gpu_runner:
        message = "the GPU runner is turned off in this editor (setting `gpu-runner`); the configured program was not run"
        ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=f"safety-ls: {message}"))
        return {"status": "disabled", "message": message}
    if results.running:
        return {"status": "busy", "message": "a GPU validation is already running"}
    settings = ls.session.settings_for(path)
    root = ls.session.workspace_root(settings)
    try:
        require_configured(settings.gpu)
    except NotConfigured as error:
        ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=str(error)))
        return {"status": "not-configured", "message": str(error)}
    results.running = True
    results.cancel = threading.Event()
    asyncio.ensure_future(_run(ls, root, settings, results.cancel))
    return {"status": "started", "message": f"GPU validation started ({', '.join(settings.gpu.tools)})"}


async def _run(ls: SafetyLanguageServer, root: Path, settings: Settings, cancel: threading.Event) -> None:
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
    ls.refresh_lenses()
    kind = lsp.MessageType.Error if status == "failed" else lsp.MessageType.Info
    ls.window_show_message(lsp.ShowMessageParams(type=kind, message=f"safety-ls: {message}"))


async def _run_with_progress(
    ls: SafetyLanguageServer, root: Path, settings: Settings, cancel: threading.Event
) -> tuple[Validation, Any]:
    """`validate` and `map_validation` on a daemon thread, reporting `$/progress`, which the client may cancel."""
    progress = await Progress.start(ls, "gpu", "safety-ls: GPU validation", cancellable=True)
    loop = asyncio.get_running_loop()

    def report(message: str, percentage: int | None) -> None:
        loop.call_soon_threadsafe(progress.report, message, percentage, True)

    cancelled_by_client = progress.cancelled_by_client()
    if cancelled_by_client is not None:  # `window/workDoneProgress/cancel`
        cancelled_by_client.add_done_callback(lambda future: cancel.set() if future.cancelled() else None)
    ls.refresh_lenses()
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
        progress.end("cancelled" if cancel.is_set() else "done")
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


def _publish(ls: SafetyLanguageServer, paths: set[Path]) -> None:
    """Publish every touched file: open ones with their own findings, closed ones with the GPU's alone."""
    if not ls.push_diagnostics:
        ls.ask_clients_to_pull()
        return
    by_path = {document.path.resolve(): document for document in ls.session.documents.values() if document.path is not None}
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
        ls.publish_objects(uri, None, ls.lsp_diagnostics(closed))


def validate_kernel(ls: SafetyLanguageServer, *args: Any) -> dict[str, Any]:
    """Start the GPU validation in the background (args: uri, 0-based line of the launch)."""
    uri = args[0] if args and isinstance(args[0], str) else None
    return start_validation(ls, path_of(uri) if uri else None)


def register(server: SafetyLanguageServer) -> None:
    server.command(VALIDATE_COMMAND)(validate_kernel)
