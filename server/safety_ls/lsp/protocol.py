"""What safety-ls changes in pygls: position encoding, text sync, raw notifications, reading stdin.

Kept apart from the handlers: these are the only places that reach into pygls's internals.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from typing import Any, Callable, Iterator

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import language_server as pygls_language_server

from safety_ls.lsp.framing import MessageStream

log = logging.getLogger(__name__)

_READ_SIZE = 1 << 16


class _PreferUtf8(pygls_language_server.ServerCapabilitiesBuilder):
    """Negotiate UTF-8 positions whenever the client offers them (no re-encoding per position)."""

    @classmethod
    def choose_position_encoding(cls, client_capabilities: lsp.ClientCapabilities) -> lsp.PositionEncodingKind | str:
        offered = (client_capabilities.general.position_encodings or []) if client_capabilities.general else []
        if lsp.PositionEncodingKind.Utf8 in offered:
            return lsp.PositionEncodingKind.Utf8
        return lsp.PositionEncodingKind.Utf16


pygls_language_server.ServerCapabilitiesBuilder = _PreferUtf8  # type: ignore[misc]


class OwnDocumentsProtocol(pygls_language_server.LanguageServerProtocol):
    """Text sync goes to the server's own documents (documents.py) only.

    pygls's workspace would keep a second copy and re-split all of its lines on every keystroke
    (about a millisecond on a 6,000-line file); nothing in safety-ls reads that copy.
    """

    @pygls_language_server.lsp_method(lsp.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: lsp.DidOpenTextDocumentParams) -> Iterator[Any]:
        yield from self._user_handler(lsp.TEXT_DOCUMENT_DID_OPEN, params)

    @pygls_language_server.lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: lsp.DidChangeTextDocumentParams) -> Iterator[Any]:
        yield from self._user_handler(lsp.TEXT_DOCUMENT_DID_CHANGE, params)

    @pygls_language_server.lsp_method(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: lsp.DidCloseTextDocumentParams) -> Iterator[Any]:
        yield from self._user_handler(lsp.TEXT_DOCUMENT_DID_CLOSE, params)

    def _user_handler(self, method: str, params: Any) -> Iterator[Any]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None


def raw_writer(protocol: Any) -> Callable[[str], None] | None:
    """A function that sends a notification given as JSON text, or None without a transport of ours.

    The keystroke path assembles `publishDiagnostics` from cached JSON text: serializing a few
    hundred lsprotocol objects through cattrs costs more than analysing the edit.
    """
    writer = getattr(protocol, "writer", None)
    if writer is None:
        return None

    def send(body_text: str) -> None:
        body = body_text.encode("utf-8")
        written = writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        if inspect.isawaitable(written):
            asyncio.ensure_future(written)

    return send


def serve_stdio(server: LanguageServer) -> None:
    """pygls's `start_io`, reading through framing.py: bad framing costs one message, not the connection."""
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    try:
        asyncio.run(_handle_messages(server, sys.stdin.buffer.read1))
    except BrokenPipeError:
        log.error("the connection to the client is lost; shutting down")
    except (KeyboardInterrupt, SystemExit):  # the `exit` notification ends the loop with SystemExit
        pass
    finally:
        server.shutdown()


async def _handle_messages(server: LanguageServer, read: Callable[[int], bytes]) -> None:
    """Until end of input: read what the client sent (a thread, as pygls does), then handle each message."""
    loop = asyncio.get_running_loop()
    protocol = server.protocol
    stream = MessageStream(lambda problem: _report_bad_framing(server, problem))
    while chunk := await loop.run_in_executor(server.thread_pool, read, _READ_SIZE):
        for message in stream.feed(chunk):
            try:
                protocol.handle_message(protocol.structure_message(message))
            except Exception as error:  # noqa: BLE001 - one bad message must not end the server
                log.exception("unable to handle a message")
                server.report_server_error(error, JsonRpcException)


def _report_bad_framing(server: LanguageServer, problem: str) -> None:
    message = f"bad LSP framing from the client: {problem}"
    log.error(message)
    server.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Error, message=f"safety-ls: {message}"))
