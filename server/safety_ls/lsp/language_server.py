"""The server object: a pygls server holding the session, publishing diagnostics, telling the user.

Handlers (lsp/handlers/) are registered on it by lsp/server.py; they read and change the
session and call back here to publish.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from safety_ls import __version__
from safety_ls.core.findings import Diagnostic
from safety_ls.core.source import Encoding
from safety_ls.lsp.convert import DiagnosticConverter, published_form
from safety_ls.lsp.documents import Document
from safety_ls.lsp.gpu_results import GpuResults, placed_in
from safety_ls.lsp.protocol import OwnDocumentsProtocol, raw_writer
from safety_ls.lsp.session import Session

log = logging.getLogger(__name__)

# Quiet time (seconds) after a keystroke on broken syntax before the exact (fresh) re-parse.
RECONCILE_DELAY = float(os.environ.get("SAFETY_LS_RECONCILE_DELAY", "0.25"))
_ENCODINGS: dict[str, Encoding] = {"utf-8": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}


class SafetyLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "safety-ls",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=OwnDocumentsProtocol,
        )
        self.session = Session(self.report_error, lambda: self.workspace.root_path if self._workspace_ready() else None)
        self.converter = DiagnosticConverter()
        self.gpu = GpuResults()  # the last GPU validation (the lens command)
        # A client that pulls diagnostics would show pushed ones a second time: it gets pulls only,
        # and a refresh request when findings change without an edit (config, reconcile).
        self.push_diagnostics = True
        self.refresh_pulls = False

    def _workspace_ready(self) -> bool:
        try:
            self.workspace
        except RuntimeError:  # pygls before `initialize`
            return False
        return True

    @property
    def encoding(self) -> Encoding:
        chosen = self.workspace.position_encoding or "utf-16"
        # PositionEncodingKind is a (str, Enum): on Python 3.11 str() of it is "PositionEncodingKind.Utf8",
        # which would silently fall back to UTF-16 after UTF-8 was negotiated; use its value.
        chosen = getattr(chosen, "value", chosen)
        return _ENCODINGS.get(chosen, "utf-16")

    def report_error(self, message: str) -> None:
        log.error(message)
        try:
            self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error, message=message))
        except Exception:  # noqa: BLE001 - before initialization there is no client to tell
            pass

    # --- analysis and publishing ---------------------------------------------------------

    def refresh(self, document: Document, exact: bool = True) -> None:
        """Analyse what changed and publish, for the document's current version."""
        try:
            self.session.analyse(document, exact=exact)
        except Exception as error:  # a checker bug must not take the server down
            log.exception("analysis failed for %s", document.uri)
            self.report_error(f"safety-ls: analysis failed for {document.uri}: {error!r}")
            return
        self.publish(document)
        if not document.tree_is_exact:
            asyncio.ensure_future(self.reconcile_later(document.uri, document.version))

    async def publish_soon(self, uri: str, version: int) -> None:
        """Analyse after pending messages are read; drop the work if a newer version arrived."""
        await asyncio.sleep(0)
        document = self.session.documents.get(uri)
        if document is None or document.version != version:
            return
        self.refresh(document, exact=False)
        collect_young_garbage()

    async def reconcile_later(self, uri: str, version: int) -> None:
        """When typing pauses on broken syntax, re-parse afresh and publish again if that changes anything."""
        await asyncio.sleep(RECONCILE_DELAY)
        document = self.session.documents.get(uri)
        if document is None or document.version != version or document.tree_is_exact:
            return
        before = [(d.rule, d.start, d.end, d.message) for d in document.diagnostics]
        try:
            self.session.analyse(document, exact=True)
        except Exception:  # noqa: BLE001 - the published result stands
            log.exception("reconciling %s failed", uri)
            return
        if before != [(d.rule, d.start, d.end, d.message) for d in document.diagnostics]:
            self.publish(document)
            self.ask_clients_to_pull()

    def reanalyse_all(self) -> None:
        """After settings changed: every open document again, and its lenses (`launch-patterns` decides where they stand)."""
        for document in self.session.documents.values():
            document.dirty = None
            self.refresh(document)
        self.ask_clients_to_pull()
        self.refresh_lenses()

    def ask_clients_to_pull(self) -> None:
        """In pull mode, findings that changed without an edit reach the client only if it asks again."""
        if not self.push_diagnostics and self.refresh_pulls:
            self.workspace_diagnostic_refresh(None)

    def gpu_diagnostics(self, document: Document) -> list[Diagnostic]:
        """The last GPU validation's findings in the document (placed by line in the current text)."""
        return [placed_in(document.source, d) for d in self.gpu.for_path(document.path)]

    def lsp_diagnostics(self, document: Document) -> list[lsp.Diagnostic]:
        encoding = self.encoding
        return [self.converter.lsp_object(document, d, encoding) for d in document.diagnostics + self.gpu_diagnostics(document)]

    def publish(self, document: Document) -> None:
        """Push the document's diagnostics, tagged with its version (runs on every keystroke)."""
        if not self.push_diagnostics:
            return
        send = raw_writer(self.protocol)
        if send is None:  # no transport of ours: the slower public API
            self.publish_objects(document.uri, document.version, self.lsp_diagnostics(document))
            return
        encoding = self.encoding
        # The stored findings' ranges are carried across edits: not every finding is converted again.
        published = document.published(encoding) + [published_form(document, d, encoding) for d in self.gpu_diagnostics(document)]
        diagnostics = ",".join(map(self.converter.json_text, published))
        send(
            f'{{"jsonrpc":"2.0","method":"{lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS}","params":'
            f'{{"uri":{json.dumps(document.uri)},"version":{document.version},"diagnostics":[{diagnostics}]}}}}'
        )

    def publish_objects(self, uri: str, version: int | None, diagnostics: list[lsp.Diagnostic]) -> None:
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics))

    def refresh_lenses(self) -> None:
        workspace = self.client_capabilities.workspace if self.client_capabilities else None
        if workspace and workspace.code_lens and workspace.code_lens.refresh_support:
            self.workspace_code_lens_refresh(None)


def collect_young_garbage() -> None:
    """The young collection the next keystroke's allocations would start, run now that this
    keystroke's diagnostics are sent (the client reads them meanwhile).

    A keystroke allocates a few hundred containers (tree nodes, findings, line index), so one in
    four or five ran a collection inside it, and one in fifty an older-generation one (2-3 ms on a
    6,000-line file). Full collections are left to the interpreter.
    """
    counts, thresholds = gc.get_count(), gc.get_threshold()
    gc.collect(1 if counts[1] + 1 >= thresholds[1] else 0)
