"""Between LSP and the engine: paths of URIs, positions, and findings as LSP diagnostics (one converter, one cache).

Most of a file's diagnostics have the same content from one keystroke to the next, so each
distinct (rule, severity, message, range) is converted once, to JSON text for the publishing
path and, on demand, to an lsprotocol object for code actions and pulls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from safety_ls.core.findings import Diagnostic, Severity
from safety_ls.core.source import Encoding, Position
from safety_ls.lsp.documents import Document, LspRange, lsp_span

SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
    Severity.HINT: lsp.DiagnosticSeverity.Hint,
}
_CACHE_LIMIT = 50_000

Key = tuple[str, Severity, str, LspRange]


@dataclass
class _Converted:
    json_text: str
    lsp_object: lsp.Diagnostic | None = None


class DiagnosticConverter:
    def __init__(self) -> None:
        self._cache: dict[Key, _Converted] = {}

    def _entry(self, document: Document, diagnostic: Diagnostic, encoding: Encoding) -> tuple[Key, _Converted]:
        key = (diagnostic.rule, diagnostic.severity, diagnostic.message, document.lsp_range(diagnostic, encoding))
        entry = self._cache.get(key)
        if entry is None:
            line, column, end_line, end_column = key[3]
            text = json.dumps(
                {
                    "range": {"start": {"line": line, "character": column}, "end": {"line": end_line, "character": end_column}},
                    "severity": SEVERITY[diagnostic.severity].value,
                    "code": diagnostic.rule,
                    "source": "safety-ls",
                    "message": diagnostic.message,
                },
                separators=(",", ":"),
            )
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            entry = self._cache[key] = _Converted(text)
        return key, entry

    def json_text(self, document: Document, diagnostic: Diagnostic, encoding: Encoding) -> str:
        return self._entry(document, diagnostic, encoding)[1].json_text

    def lsp_object(self, document: Document, diagnostic: Diagnostic, encoding: Encoding) -> lsp.Diagnostic:
        key, entry = self._entry(document, diagnostic, encoding)
        if entry.lsp_object is None:
            entry.lsp_object = lsp.Diagnostic(
                range=_range_object(key[3]),
                message=diagnostic.message,
                severity=SEVERITY[diagnostic.severity],
                code=diagnostic.rule,
                source="safety-ls",
            )
        return entry.lsp_object


def lsp_range(document: Document, start: int, end: int, encoding: Encoding) -> lsp.Range:
    """Bytes [start, end) of the document as an LSP range (fix edits, hover, lenses)."""
    return _range_object(lsp_span(document.source, start, end, encoding))


def _range_object(span: LspRange) -> lsp.Range:
    line, column, end_line, end_column = span
    return lsp.Range(lsp.Position(line, column), lsp.Position(end_line, end_column))


def path_of(uri: str) -> Path | None:
    """The file a `file:` URI names; None for other schemes (untitled buffers)."""
    path = to_fs_path(uri)
    return Path(path) if path and uri.startswith("file:") else None


def position_of(position: lsp.Position) -> Position:
    return Position(position.line, position.character)
