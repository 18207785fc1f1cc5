"""The real `safety-ls serve --stdio` process driven byte by byte: for framing no LSP client library would send.

Whatever the client writes goes out as given (`send_bytes`); what the server writes is read
with strict framing and kept in order (`received`), every wait bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Callable

TIMEOUT = 10.0
_CONTENT_LENGTH = re.compile(rb"Content-Length: (\d+)")


def frame(message: dict[str, Any], content_length: int | str | None = None) -> bytes:
    """The message as the base protocol frames it; `content_length` overrides the true length."""
    body = json.dumps(message).encode("utf-8")
    length = len(body) if content_length is None else content_length
    return f"Content-Length: {length}\r\n\r\n".encode("ascii") + body


class RawServer:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.received: list[dict[str, Any]] = []
        self.stderr = bytearray()
        self._ids = itertools.count(1)
        self._readers = [asyncio.ensure_future(self._read_messages()), asyncio.ensure_future(self._read_stderr())]

    async def _read_messages(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                header = await stdout.readuntil(b"\r\n\r\n")
                length = _CONTENT_LENGTH.search(header)
                assert length is not None, f"the server wrote a header without Content-Length: {header!r}"
                self.received.append(json.loads(await stdout.readexactly(int(length[1]))))
        except asyncio.IncompleteReadError:  # the server exited
            return

    async def _read_stderr(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        while chunk := await stderr.read(4096):
            self.stderr += chunk

    async def send_bytes(self, data: bytes) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(data)
        await stdin.drain()

    def request_message(self, method: str, params: Any) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}

    async def request(self, method: str, params: Any) -> Any:
        """Send a well-framed request and wait for its response's result."""
        message = self.request_message(method, params)
        await self.send_bytes(frame(message))
        return await self.response(message["id"])

    async def notify(self, method: str, params: Any) -> None:
        await self.send_bytes(frame({"jsonrpc": "2.0", "method": method, "params": params}))

    async def response(self, request_id: int) -> Any:
        answer = await self.wait_for(lambda m: m.get("id") == request_id and "method" not in m, f"the response to #{request_id}")
        assert "error" not in answer, answer["error"]
        return answer.get("result")

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """The first message received that satisfies `predicate`, waiting at most TIMEOUT."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while True:
            found = next((message for message in self.received if predicate(message)), None)
            if found is not None:
                return found
            if loop.time() > deadline or self.process.returncode is not None:
                raise AssertionError(f"waited {TIMEOUT}s for {what}; received {self.received}; stderr {bytes(self.stderr)!r}")
            await asyncio.sleep(0.01)

    def notifications(self, method: str) -> list[Any]:
        return [message["params"] for message in self.received if message.get("method") == method]

    async def initialize(self, root: Path) -> None:
        await self.request("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}})
        await self.notify("initialized", {})

    async def shutdown_and_exit(self) -> int:
        """The orderly end: `shutdown`, `exit`, and the process's exit code."""
        await self.request("shutdown", None)
        await self.notify("exit", None)
        return await asyncio.wait_for(self.process.wait(), TIMEOUT)


@asynccontextmanager
async def raw_server() -> AsyncIterator[RawServer]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "safety_ls",
        "serve",
        "--stdio",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    server = RawServer(process)
    try:
        yield server
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        for reader in server._readers:
            reader.cancel()
