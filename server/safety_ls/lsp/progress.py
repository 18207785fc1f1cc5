"""`$/progress` for long work (workspace scan, audit, GPU validation), when the client accepts it."""

from __future__ import annotations

import itertools
from typing import Any

from lsprotocol import types as lsp

_tokens = itertools.count(1)


class Progress:
    """Begin, report and end one piece of work; every call is a no-op if the client refused the token."""

    def __init__(self, server: Any, token: str) -> None:
        self.server, self.token = server, token

    @classmethod
    async def start(cls, server: Any, kind: str, title: str, cancellable: bool = False) -> "Progress":
        token = f"safety-ls-{kind}-{next(_tokens)}"
        window = server.client_capabilities.window if server.client_capabilities else None
        if window is None or not window.work_done_progress:
            return cls(server, "")
        try:
            await server.work_done_progress.create_async(token)
        except Exception:  # noqa: BLE001 - a client that refuses the token still gets the result
            return cls(server, "")
        server.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(title=title, cancellable=cancellable, percentage=0))
        return cls(server, token)

    def report(self, message: str, percentage: int | None = None, cancellable: bool = False) -> None:
        if self.token:
            self.server.work_done_progress.report(
                self.token, lsp.WorkDoneProgressReport(message=message, percentage=percentage, cancellable=cancellable)
            )

    def end(self, message: str) -> None:
        if self.token:
            self.server.work_done_progress.end(self.token, lsp.WorkDoneProgressEnd(message=message))

    def cancelled_by_client(self) -> Any:
        """The future pygls cancels on `window/workDoneProgress/cancel`, or None."""
        return self.server.work_done_progress.tokens.get(self.token) if self.token else None
