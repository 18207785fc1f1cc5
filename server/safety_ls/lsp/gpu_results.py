"""The last GPU validation's findings, kept by the server until the next one (diagnostics and lens titles)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from safety_ls.core.findings import Diagnostic
from safety_ls.core.source import Position, SourceText


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
        # No results (nearly always): the path is not resolved, which costs syscalls on each keystroke.
        return self.diagnostics.get(path.resolve(), []) if path is not None and self.diagnostics else []

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
