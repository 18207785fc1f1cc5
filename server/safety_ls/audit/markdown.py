"""The audit report as Markdown (a replaceable jinja2 template) and as JSON."""

from __future__ import annotations

import json
from typing import Any

from safety_ls.config.templates import Templates

MARKDOWN_TEMPLATE = "reports/audit.md.j2"


def render_markdown(report: dict[str, Any], templates: Templates) -> str:
    """The report through `reports/audit.md.j2`: the project's copy when it renders, else the shipped one."""
    undocumented = [site for site in report["sites"] if not site["documented"]]
    return templates.render_document(MARKDOWN_TEMPLATE, {"report": report, "undocumented": undocumented})


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
