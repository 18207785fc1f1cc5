"""Bad framing from the client costs that one message: the real `safety-ls serve --stdio`, fed raw bytes.

Each bad message is followed by a good request, its header split across two writes; the server
must answer the good one, log the bad one as an error (window/logMessage and stderr), and go on:
a document opened afterwards gets its diagnostics, and `shutdown`/`exit` end it with code 0.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from raw_lsp import RawServer, frame, raw_server
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze

pytestmark = pytest.mark.asyncio

TEXT = "fn f(n: usize) -> u32 {\n    let a = unsafe { g() };\n    n as u32\n}\n"
ERROR = 1  # MessageType.Error


def _body(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode("utf-8")


BAD_FRAMING: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "length-past-everything-sent": lambda message: frame(message, len(_body(message)) + 100_000),
    "length-swallowing-the-next-header": lambda message: frame(message, len(_body(message)) + 25),
    "length-too-small": lambda message: frame(message, len(_body(message)) - 10),
    "length-not-a-number": lambda message: b"Content-Length: twelve\r\n\r\n" + _body(message),
    "no-Content-Length": lambda message: b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + _body(message),
    "garbage-in-the-header": lambda message: b"Content-Length: 40\r\n\x00not a header\r\n\r\n" + _body(message),
    "body-not-JSON": lambda message: b"Content-Length: 9\r\n\r\n{not json",
}


def hover(uri: str) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}


def framing_errors(server: RawServer) -> list[str]:
    return [p["message"] for p in server.notifications("window/logMessage") if p["type"] == ERROR and "framing" in p["message"]]


async def assert_still_serving(server: RawServer, root: Path) -> None:
    """A document opened now gets a fresh analysis's diagnostics; shutdown and exit end the server cleanly."""
    path = root / "after.rs"
    uri = path.as_uri()
    await server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": TEXT}})
    published = await server.wait_for(
        lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri, "diagnostics"
    )
    expected = sorted(d.rule for d in analyze(SourceText.from_text(TEXT), str(path), Settings()).diagnostics)
    assert expected and sorted(d["code"] for d in published["params"]["diagnostics"]) == expected
    assert await server.shutdown_and_exit() == 0


@pytest.mark.parametrize("bad_framing", BAD_FRAMING.values(), ids=BAD_FRAMING.keys())
async def test_a_badly_framed_message_is_dropped_and_the_next_request_answered(
    tmp_path: Path, bad_framing: Callable[[dict[str, Any]], bytes]
):
    async with raw_server() as server:
        await server.initialize(tmp_path)
        uri = (tmp_path / "never-opened.rs").as_uri()
        bad = server.request_message("textDocument/hover", hover(uri))
        good = server.request_message("textDocument/hover", hover(uri))
        following = frame(good)
        # The next header arrives in two pieces: a reader must not take half a header for garbage.
        await server.send_bytes(bad_framing(bad) + following[:10])
        await asyncio.sleep(0.1)
        await server.send_bytes(following[10:])

        assert await server.response(good["id"]) is None  # nothing to hover in a document never opened
        assert not [m for m in server.received if m.get("id") == bad["id"]]
        (logged,) = framing_errors(server)
        assert "dropped" in logged
        assert b"bad LSP framing" in server.stderr
        await assert_still_serving(server, tmp_path)


async def test_several_bad_messages_in_a_row_cost_only_themselves(tmp_path: Path):
    async with raw_server() as server:
        await server.initialize(tmp_path)
        uri = (tmp_path / "never-opened.rs").as_uri()
        bad = [bad_framing(server.request_message("textDocument/hover", hover(uri))) for bad_framing in BAD_FRAMING.values()]
        good = server.request_message("textDocument/hover", hover(uri))
        await server.send_bytes(b"".join(bad) + frame(good))
        assert await server.response(good["id"]) is None
        answered = [m["id"] for m in server.received if "id" in m and "method" not in m]
        assert answered == [1, good["id"]]  # `initialize`, then the good request only
        assert framing_errors(server)
        await assert_still_serving(server, tmp_path)


async def test_a_message_whose_text_holds_a_header_arrives_whole_in_small_pieces(tmp_path: Path):
    """A good message is never cut at a `Content-Length:` inside its text, however the bytes arrive."""
    text = 'const HTTP: &str = "Content-Length: 2\\r\\n\\r\\n{}";\nContent-Length: 3\n' + TEXT
    uri = (tmp_path / "http.rs").as_uri()
    opened = frame(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": text}},
        }
    )
    async with raw_server() as server:
        await server.initialize(tmp_path)
        for start in range(0, len(opened), 16):
            await server.send_bytes(opened[start : start + 16])
            await asyncio.sleep(0.001)
        published = await server.wait_for(
            lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri, "diagnostics"
        )
        expected = sorted(d.rule for d in analyze(SourceText.from_text(text), "http.rs", Settings()).diagnostics)
        assert sorted(d["code"] for d in published["params"]["diagnostics"]) == expected
        assert framing_errors(server) == []
        await assert_still_serving(server, tmp_path)
