"""SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it."""

from __future__ import annotations

import json
from pathlib import Path

from safety_ls import __version__
from safety_ls.cli.formats.sites import fingerprints
from safety_ls.core.findings import FileResult, Severity
from safety_ls.rules import ALL_RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note", Severity.HINT: "note"}


def _rule_descriptor(rule_id: str) -> dict:
    rule = ALL_RULES[rule_id]
    help_text = rule.documentation()
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.explanation},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": _LEVEL[rule.default_severity]},
        "properties": {"tags": ["safety"] + ([f"clippy::{rule.clippy_lint}"] if rule.clippy_lint else [])},
    }


def _uri(path: str, root: Path) -> str:
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.relative_to(root)
        except ValueError:
            return candidate.as_uri()
    return candidate.as_posix()


def _invocation(results: list[FileResult], root: Path) -> dict:
    """Files that could not be checked, as SARIF tool execution notifications (viewers show them)."""
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{result.path}: {result.error}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(result.path, root), "uriBaseId": "SRCROOT"}}}],
        }
        for result in sorted(results, key=lambda r: r.path)
        if result.error is not None
    ]
    return {"executionSuccessful": not notifications, "toolExecutionNotifications": notifications}


def render(results: list[FileResult], root: Path) -> str:
    rule_ids = sorted(ALL_RULES)
    sarif_results = []
    for result in sorted(results, key=lambda r: r.path):
        prints = fingerprints(result)
        for d in result.diagnostics:
            sarif_results.append(
                {
                    "ruleId": d.rule,
                    "ruleIndex": rule_ids.index(d.rule),
                    "level": _LEVEL[d.severity],
                    "message": {"text": d.message},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": _uri(d.path, root), "uriBaseId": "SRCROOT"},
                                "region": {
                                    "startLine": d.line,
                                    "startColumn": d.column,
                                    "endLine": d.end_line,
                                    "endColumn": d.end_column,
                                },
                            }
                        }
                    ],
                    "partialFingerprints": {"safetyLsSite/v1": prints[id(d)]},
                }
            )
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "safety-ls",
                        "version": __version__,
                        "rules": [_rule_descriptor(rule_id) for rule_id in rule_ids],
                    }
                },
                "originalUriBaseIds": {"SRCROOT": {"uri": root.resolve().as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "invocations": [_invocation(results, root)],
                "results": sarif_results,
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
