"""The JSON contract of DESIGN.md: `{"version": 1, "diagnostics": [...]}`."""

from __future__ import annotations

import json

from ..engine import FileResult
from . import all_diagnostics

JSON_VERSION = 1


def render(results: list[FileResult]) -> str:
    document = {"version": JSON_VERSION, "diagnostics": [d.to_json() for d in all_diagnostics(results)]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
