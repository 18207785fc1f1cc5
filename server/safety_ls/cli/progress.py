"""`files done / total` on stderr while a long check runs in a terminal; nothing when stderr is not one."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

# A run shorter than this finishes before a progress line would help.
DELAY_SECONDS = 1.0
# Redrawing more often than this only costs time.
INTERVAL_SECONDS = 0.1


class FileProgress:
    """Counts files on one terminal line (redrawn with `\\r`), erased by `close`."""

    def __init__(self, total: int, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self.drawn_at: float | None = None

    def __call__(self, done: int) -> None:
        now = self.clock()
        if now - self.started < DELAY_SECONDS:
            return
        if self.drawn_at is not None and now - self.drawn_at < INTERVAL_SECONDS and done < self.total:
            return
        self.stream.write(f"\rsafety-ls: checked {done} / {self.total} files")
        self.stream.flush()
        self.drawn_at = now

    def close(self) -> None:
        if self.drawn_at is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def on_terminal(total: int, quiet: bool) -> FileProgress | None:
    if quiet or not sys.stderr.isatty():
        return None
    return FileProgress(total, sys.stderr)
