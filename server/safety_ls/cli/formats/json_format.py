"""The JSON contract of DESIGN.md: `{"version": 1, "diagnostics": [...], "errors": [...]}`.

`errors` lists the files (or directories) that could not be checked, `{"path", "message"}`, so a
tool reading the JSON never takes a run that checked nothing for a clean one.
"""

from __future__ import annotations

import json

from safety_ls.cli.formats.sites import all_diagnostics
from safety_ls.core.findings import FileResult

JSON_VERSION = 1


def render(results: list[FileResult]) -> str:
    """One diagnostic per line: readable, diffable, and encoded by json's C encoder."""
    items = [d.to_json() for d in all_diagnostics(results)]
    # One encoder call for the whole list, then a line break between items. Every item is a flat
    # object whose first key is "path", so `}, {"path": ` occurs only between two items: inside a
    # string every `"` is escaped, and a closing quote is never followed by `path`.
    body = json.dumps(items, ensure_ascii=False)[1:-1].replace('}, {"path": ', '},\n    {"path": ')
    diagnostics = f"[\n    {body}\n  ]" if items else "[]"
    failures = [
        json.dumps({"path": result.path, "message": result.error}, ensure_ascii=False)
        for result in sorted(results, key=lambda r: r.path)
        if result.error is not None
    ]
    errors = "[\n    " + ",\n    ".join(failures) + "\n  ]" if failures else "[]"
    return f'{{\n  "version": {JSON_VERSION},\n  "diagnostics": {diagnostics},\n  "errors": {errors}\n}}\n'

