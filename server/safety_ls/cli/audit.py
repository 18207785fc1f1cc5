"""`safety-ls audit PATH`: the unsafe inventory as Markdown, JSON or HTML, with CI gates.

Exit codes, as for `check`: 0 every gate passed, 1 a gate failed, 2 error
(a path that does not exist, an unreadable earlier report, files that could
not be read; the report is still written, listing them).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from safety_ls.audit.html import render_html
from safety_ls.audit.markdown import render_json, render_markdown
from safety_ls.audit.report import (
    CARGO_TARGETS,
    AuditError,
    AuditTarget,
    check_previous,
    compare,
    evaluate_gates,
    run_audit,
)
from safety_ls.config.loader import load_settings
from safety_ls.config.templates import Templates
from safety_ls.core.files import write_text

FORMATS = ("markdown", "json", "html")
EXIT_PASSED, EXIT_GATE_FAILED, EXIT_ERROR = 0, 1, 2


def cargo_targets(value: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [name for name in chosen if name not in CARGO_TARGETS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown target {unknown[0] if unknown else value!r} (one of {', '.join(CARGO_TARGETS)})")
    return chosen


def non_negative_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {number}")
    return number


def percentage(value: str) -> float:
    try:
        number = float(value.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage such as 5 or 2.5, got {value!r}") from None
    if not 0 <= number <= 100:
        raise argparse.ArgumentTypeError(f"expected a percentage from 0 to 100, got {value}")
    return number


def add_arguments(audit: argparse.ArgumentParser) -> None:
    audit.add_argument("path", type=Path, metavar="PATH", help="a Cargo workspace, a crate, or a directory of .rs files")
    audit.add_argument("--format", choices=FORMATS, default="markdown")
    audit.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout")
    audit.add_argument("--compare", type=Path, metavar="OLD.json", help="show what changed since this JSON report")
    audit.add_argument("--max-undocumented", type=non_negative_int, metavar="N", help="fail (exit 1) above N undocumented unsafe sites")
    audit.add_argument("--max-unsafe-percent", type=percentage, metavar="P", help="fail (exit 1) when a crate has over P%% of its lines inside unsafe")
    audit.add_argument("--config", type=Path, help="use this config file instead of searching for one")
    audit.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    audit.add_argument(
        "--targets", type=cargo_targets, default=CARGO_TARGETS, metavar="T,..",
        help="the Cargo targets to audit: src, tests, examples, benches (default: all)",
    )


def load_previous(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AuditError(f"{path}: cannot read the earlier report: {getattr(error, 'strerror', None) or error}") from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise AuditError(f"{path}: not JSON ({error}); --compare takes a report written with --format json") from None
    return check_previous(document, str(path))


def write_report(path: Path, text: str) -> None:
    """Write atomically, so a CI job never publishes half a report."""
    try:
        write_text(path, text, root=None)  # the path the user named; a symlink there is replaced
    except OSError as error:
        raise AuditError(f"{path}: cannot write the report: {error.strerror or error}") from None


def render(report: dict[str, Any], output_format: str, templates: Templates) -> str:
    if output_format == "json":
        return render_json(report)
    if output_format == "html":
        return render_html(report)
    return render_markdown(report, templates)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except AuditError as error:
        print(f"safety-ls: error: {error}", file=sys.stderr)
        return EXIT_ERROR


def _run(args: argparse.Namespace) -> int:
    path: Path = args.path
    if not path.exists():
        raise AuditError(f"{path}: no such file or directory")
    previous = load_previous(args.compare) if args.compare else None  # before --output may replace it
    settings = load_settings(path if path.is_dir() else path.parent, args.config)
    report = run_audit([AuditTarget(path, settings)], jobs=args.jobs, cargo_targets=args.targets)
    if previous is not None:
        report["compare"] = compare(report, previous)
    report["gates"] = evaluate_gates(report, args.max_undocumented, args.max_unsafe_percent)
    root = Path(settings.root) if settings.root else Path.cwd()
    templates = Templates(root / settings.template_dir if settings.template_dir else None)
    text = render(report, args.format, templates)
    for problem in templates.problems:
        print(f"safety-ls: warning: {problem}; the built-in template was used", file=sys.stderr)
    if args.output:
        write_report(args.output, text)
    else:
        sys.stdout.write(text)
    for warning in report["warnings"]:
        print(f"safety-ls: warning: {warning['path']}: {warning['warning']}", file=sys.stderr)
    for error in report["errors"]:
        print(f"safety-ls: error: {error['path']}: {error['error']}", file=sys.stderr)
    failed = [gate for gate in report["gates"] if not gate["passed"]]
    for gate in report["gates"]:
        print(f"safety-ls: gate --{gate['gate']} {'passed' if gate['passed'] else 'FAILED'}: {gate['detail']}", file=sys.stderr)
    if report["errors"]:
        print(f"safety-ls: {len(report['errors'])} file(s) or folder(s) could not be audited; the others were", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_GATE_FAILED if failed else EXIT_PASSED
