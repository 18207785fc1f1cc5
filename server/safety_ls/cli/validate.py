"""`safety-ls validate`: run the GPU program under compute-sanitizer, or import saved reports.

Prints `gpu-sanitizer-error` diagnostics in the `check` formats; problems
(no sanitizer, no GPU, a timeout, findings outside the workspace) go to
stderr. Exit codes as for `check`: 0 clean, 1 findings, 2 a run or import failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from safety_ls.cli.formats import FORMATS, render
from safety_ls.cli.formats.paint import colour_wanted
from safety_ls.cli.options import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, display
from safety_ls.config.loader import load_settings, seconds
from safety_ls.core.files import write_text
from safety_ls.core.findings import FileResult
from safety_ls.core.settings import GPU_TOOLS, Settings
from safety_ls.gpu.mapping import MappedFindings, Workspace, map_reports
from safety_ls.gpu.runner import (
    NotConfigured,
    ReportError,
    Validation,
    import_reports,
    map_validation,
    validate,
)


def _tools(value: str) -> tuple[str, ...]:
    tools = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [tool for tool in tools if tool not in GPU_TOOLS]
    if unknown or not tools:
        raise argparse.ArgumentTypeError(f"unknown tool {unknown[0] if unknown else value!r} (one of {', '.join(GPU_TOOLS)})")
    return tools


def add_arguments(validate_parser: argparse.ArgumentParser) -> None:
    validate_parser.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH", help="the workspace (default: .)")
    validate_parser.add_argument("--tool", type=_tools, help="memcheck,racecheck,initcheck,synccheck (default: [gpu] tools)")
    validate_parser.add_argument("--report", type=Path, nargs="+", metavar="FILE", help="import saved reports (text or --xml) instead of running")
    validate_parser.add_argument("--format", choices=FORMATS, default="text")
    validate_parser.add_argument("--config", type=Path, help="use this config file instead of searching for one")
    validate_parser.add_argument("--timeout", type=_seconds, help="seconds per tool run (default: [gpu] timeout)")
    validate_parser.add_argument("--no-cache", action="store_true", help="run even when a cached result matches")
    validate_parser.add_argument("--save-reports", type=Path, metavar="DIR", help="also write each run's raw report to DIR")


def _seconds(text: str) -> float:
    try:
        return seconds(float(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _file_results(mapped: MappedFindings) -> list[FileResult]:
    results = []
    for path, diagnostics in sorted(mapped.diagnostics.items()):
        source = mapped.sources[path]
        result = FileResult(diagnostics[0].path, list(diagnostics))
        for diagnostic in diagnostics:
            result.excerpts.setdefault(diagnostic.line - 1, source.line_text(diagnostic.line - 1))
        results.append(result)
    return results


def _save_reports(directory: Path, validation: Validation) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    runs = []
    for run in validation.runs:
        write_text(directory / f"{run.tool}.txt", run.output, root=None)
        if run.xml is not None:
            write_text(directory / f"{run.tool}.xml", run.xml, root=None)
        runs.append(
            {"tool": run.tool, "argv": run.argv, "returncode": run.returncode, "seconds": round(run.duration, 3), "cached": run.cached}
        )
    write_text(directory / "runs.json", json.dumps(runs, indent=2) + "\n", root=None)


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    if not args.path.is_dir():
        print(f"safety-ls: error: {args.path}: not a directory (validate takes the workspace)", file=sys.stderr)
        return EXIT_ERROR
    settings: Settings = load_settings(args.path, args.config)
    if args.timeout is not None:
        settings = replace(settings, gpu=replace(settings.gpu, timeout=args.timeout))
    # The workspace: where the config is (the command's paths are relative to it), else PATH.
    root = Path(settings.root).resolve() if settings.root else args.path.resolve()
    cwd = os.getcwd()

    def shown(path: Path) -> str:
        return display(path, cwd)

    validation = None
    report_warnings: list[str] = []
    if args.report:
        missing = [str(path) for path in args.report if not path.is_file()]
        if missing:
            print(f"safety-ls: error: no such report: {', '.join(missing)}", file=sys.stderr)
            return EXIT_ERROR
        single_tool = args.tool[0] if args.tool and len(args.tool) == 1 else None
        try:
            reports = import_reports(args.report, single_tool)
        except ReportError as error:
            print(f"safety-ls: error: {error}", file=sys.stderr)
            return EXIT_ERROR
        mapped = map_reports(reports, Workspace(root, settings), shown)
        problems: list[str] = []
        for path, report in zip(args.report, reports):
            errors, warnings = report.trouble()
            problems.extend(f"{path}: {sentence}" for sentence in errors)
            report_warnings.extend(f"{path}: {sentence}" for sentence in warnings)
    else:
        try:
            validation = validate(root, settings, args.tool, progress=_progress_to_stderr(), use_cache=not args.no_cache)
        except NotConfigured as error:
            print(f"safety-ls: error: {error}", file=sys.stderr)
            return EXIT_ERROR
        if args.save_reports:
            _save_reports(args.save_reports, validation)
        mapped = map_validation(validation, settings, shown)
        problems = validation.problems
    results = _file_results(mapped)
    if results or args.format != "text":
        sys.stdout.write(render(args.format, results, root, colour=colour_wanted()))
    elif mapped.unmapped:
        print("No sanitizer finding could be placed in the workspace; see the warnings.")
    elif problems:
        print("Validation failed; see the errors.")  # never "no findings" when the run cannot say
    else:
        print("No sanitizer findings.")
    for line, count in mapped.unmapped.items():
        times = f" ({count} records)" if count > 1 else ""
        print(f"safety-ls: warning: not placed in the workspace: {line}{times}", file=sys.stderr)
    for note in validation.notes if validation is not None else report_warnings:
        print(f"safety-ls: warning: {note}", file=sys.stderr)
    for problem in problems:
        print(f"safety-ls: error: {problem}", file=sys.stderr)
    if validation is not None:
        for run in validation.runs:
            state = "cached" if run.cached else f"{run.duration:.2f} s"
            print(f"safety-ls: {run.tool}: exit {run.returncode}, {run.report().error_count} error(s), {state}", file=sys.stderr)
        own = time.monotonic() - started - validation.sanitizer_time
        print(f"safety-ls: sanitizer {validation.sanitizer_time:.2f} s, safety-ls itself {own:.2f} s", file=sys.stderr)
    if problems:
        return EXIT_ERROR
    return EXIT_FINDINGS if mapped.count or mapped.unmapped else EXIT_CLEAN


def _progress_to_stderr() -> Callable[[str, int | None], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(message: str, percentage: int | None) -> None:
        print(f"safety-ls: {message}", file=sys.stderr, flush=True)

    return show
