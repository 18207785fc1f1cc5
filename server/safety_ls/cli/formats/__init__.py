"""Report formats for `check` and `validate`: each renders results to a string."""

from __future__ import annotations

from pathlib import Path

from safety_ls.core.findings import FileResult

FORMATS = ("text", "concise", "json", "sarif", "github")


def render(output_format: str, results: list[FileResult], root: Path, *, colour: bool, summary: bool = True) -> str:
    """`results` in `output_format`; `summary` adds the closing counts to the two human formats.

    Only the format asked for is imported: a pre-commit run pays for one (SARIF, which carries
    each rule's documentation, loads the rules).
    """
    if output_format == "json":
        from safety_ls.cli.formats import json_format

        return json_format.render(results)
    if output_format == "sarif":
        from safety_ls.cli.formats import sarif

        return sarif.render(results, root)
    if output_format == "github":
        from safety_ls.cli.formats import github

        return github.render(results)
    if output_format == "concise":
        from safety_ls.cli.formats import concise

        return concise.render(results, colour, summary)
    from safety_ls.cli.formats import text

    return text.render(results, colour, summary)
