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
from safety_ls.lsp.documents import Document
from safety_ls.lsp.stored_findings import LspRange, Published, lsp_span

SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
    Severity.HINT: lsp.DiagnosticSeverity.Hint,
}
_CACHE_LIMIT = 50_000


@dataclass
class _Converted:
    json_text: str
    lsp_object: lsp.Diagnostic | None = None


class DiagnosticConverter:
    def __init__(self) -> None:
        self._cache: dict[Published, _Converted] = {}
        # The JSON after the range, per (rule, severity, message): a line typed above a few hundred
        # findings gives each a new range, and formatting only the numbers is several times faster.
        self._after_range: dict[tuple[str, Severity, str], str] = {}

    def _entry(self, key: Published) -> _Converted:
        entry = self._cache.get(key)
        if entry is None:
            rule, severity, message, (line, column, end_line, end_column) = key
            after_range = self._after_range.get(key[:3])
            if after_range is None:
                fields = {"severity": SEVERITY[severity].value, "code": rule, "source": "safety-ls", "message": message}
                after_range = self._after_range[key[:3]] = json.dumps(fields, separators=(",", ":"))[1:]
            text = (
                f'{{"range":{{"start":{{"line":{line},"character":{column}}},'
                f'"end":{{"line":{end_line},"character":{end_column}}}}},{after_range}'
            )
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
                self._after_range.clear()
            entry = self._cache[key] = _Converted(text)
        return entry

    def json_text(self, key: Published) -> str:
        return self._entry(key).json_text

    def lsp_object(self, document: Document, diagnostic: Diagnostic, encoding: Encoding) -> lsp.Diagnostic:
        key = published_form(document, diagnostic, encoding)
        entry = self._entry(key)
        if entry.lsp_object is None:
            entry.lsp_object = lsp.Diagnostic(
                range=_range_object(key[3]),
                message=diagnostic.message,
                severity=SEVERITY[diagnostic.severity],
                code=diagnostic.rule,
                source="safety-ls",
            )
        return entry.lsp_object


def published_form(document: Document, diagnostic: Diagnostic, encoding: Encoding) -> Published:
    """What of a finding is published: its rule, severity, message and range in the client's encoding."""
    return (diagnostic.rule, diagnostic.severity, diagnostic.message, document.lsp_range(diagnostic, encoding))


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
