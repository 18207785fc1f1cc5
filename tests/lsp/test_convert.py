"""The JSON text a keystroke publishes for each diagnostic is exactly json.dumps of its LSP form."""

from __future__ import annotations

import json

import pytest
from safety_ls.core.findings import Severity
from safety_ls.lsp.convert import SEVERITY, DiagnosticConverter

MESSAGES = ['`as u32` cast missing a `// CAST: usize → u32, <reason>` comment', 'a "quoted" \\ path\n\tand\u2028more', "😀", ""]


@pytest.mark.parametrize("severity", list(Severity))
@pytest.mark.parametrize("message", MESSAGES)
def test_json_text_is_the_compact_json_of_the_diagnostic(severity: Severity, message: str):
    converter = DiagnosticConverter()
    for span in ((0, 0, 0, 0), (12, 4, 13, 1), (1_000_000, 7, 1_000_000, 9)):  # one message, new ranges
        line, column, end_line, end_column = span
        expected = json.dumps(
            {
                "range": {"start": {"line": line, "character": column}, "end": {"line": end_line, "character": end_column}},
                "severity": SEVERITY[severity].value,
                "code": "missing-cast",
                "source": "safety-ls",
                "message": message,
            },
            separators=(",", ":"),
        )
        assert converter.json_text(("missing-cast", severity, message, span)) == expected
