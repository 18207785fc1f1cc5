"""The JSON contract of DESIGN.md: `{"version": 1, "diagnostics": [...]}`."""

from __future__ import annotations

import json

from safety_ls.cli.formats.sites import all_diagnostics
from safety_ls.engine.analyze import FileResult

JSON_VERSION = 1


def render(results: list[FileResult]) -> str:
    """One diagnostic per line: readable, diffable, and encoded by json's C encoder."""
    items = [json.dumps(d.to_json(), ensure_ascii=False) for d in all_diagnostics(results)]
    body = ",\n    ".join(items)
    diagnostics = f"[\n    {body}\n  ]" if items else "[]"
    return f'{{\n  "version": {JSON_VERSION},\n  "diagnostics": {diagnostics}\n}}\n'

