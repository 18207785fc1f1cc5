"""Report formats for `check` and `validate`: each renders results to a string."""

from __future__ import annotations

from pathlib import Path

from safety_ls.cli.formats import concise, github, json_format, text
from safety_ls.core.findings import FileResult

FORMATS = ("text", "concise", "json", "sarif", "github")


def render(output_format: str, results: list[FileResult], root: Path, *, colour: bool, summary: bool = True) -> str:
    """`results` in `output_format`; `summary` adds the closing counts to the two human formats."""
    if output_format == "json":
        return json_format.render(results)
    if output_format == "sarif":
        # The one format that carries each rule's documentation, so the one that loads the rules.
        from safety_ls.cli.formats import sarif

        return sarif.render(results, root)
    if output_format == "github":
        return github.render(results)
    if output_format == "concise":
        return concise.render(results, colour, summary)
    return text.render(results, colour, summary)
