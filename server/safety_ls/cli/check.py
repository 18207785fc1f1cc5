"""`safety-ls check`: report missing or weak annotations.

Exit codes: 0 nothing at or above `--fail-on` (default: warning), 1 findings
at or above it, 2 an error. Imports only the analysis: no language server, no
templates, no audit, so a pre-commit run on a few files starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from safety_ls.cli import progress
from safety_ls.cli.formats import FORMATS, render
from safety_ls.cli.formats.paint import colour_wanted
from safety_ls.cli.options import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    UsageError,
    add_rule_options,
    display,
    project_root,
    require_existing,
    settings_for,
)
from safety_ls.core.crate_dirs import crate_dir_of
from safety_ls.core.findings import FileResult, Severity
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceError, SourceText
from safety_ls.engine.cache import CACHE_DIRECTORY, ResultCache
from safety_ls.engine.discovery import rust_files
from safety_ls.engine.workspace import check_files

# Most severe first: `--fail-on X` fails on X and everything before it.
SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO, Severity.HINT)


def add_arguments(check: argparse.ArgumentParser) -> None:
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or directories (default: .); - reads stdin")
    check.add_argument(
        "--format", "--output-format", dest="format", choices=FORMATS, default="text",
        help="text (default), concise (one line per finding), json, sarif or github",
    )
    add_rule_options(check, "report")
    check.add_argument("--stdin-filename", help="the name to report (and resolve config from) for stdin")
    check.add_argument("--no-cache", action="store_true", help="analyse every file, ignoring the cache")
    check.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    check.add_argument(
        "--fail-on", choices=[severity.value for severity in SEVERITY_ORDER], default=Severity.WARNING.value,
        help="exit 1 when a finding has this severity or a higher one (default: warning)",
    )
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--statistics", action="store_true", help="count findings per rule and per file instead of listing them")
    check.add_argument("-q", "--quiet", action="store_true", help="print the findings and nothing else (no summary, notes or progress)")
    recorded = check.add_mutually_exclusive_group()
    recorded.add_argument("--baseline", type=Path, metavar="FILE", help="report only findings not recorded in FILE")
    recorded.add_argument("--write-baseline", type=Path, metavar="FILE", help="record every finding in FILE; exit 0")


def fails(results: list[FileResult], fail_on: str) -> bool:
    failing = {severity for severity in SEVERITY_ORDER[: [s.value for s in SEVERITY_ORDER].index(fail_on) + 1]}
    return any(d.severity in failing for result in results for d in result.diagnostics)


def _check_stdin(args: argparse.Namespace, settings: Settings) -> list[FileResult]:
    # Imported here: a run answered from the cache (the other path) never loads the analysis.
    from safety_ls.core.crate import crate_index
    from safety_ls.engine.analyze import analyze

    name = args.stdin_filename or "-"
    try:
        source = SourceText(sys.stdin.buffer.read())
    except SourceError as error:
        return [FileResult(name, error=str(error))]
    path = Path(name)
    crate_dir = crate_dir_of(path) if args.stdin_filename else None
    crate = crate_index(crate_dir) if crate_dir is not None else None
    return [analyze(source, name, settings, crate=crate, file=path if crate is not None else None)]


def _check_tree(args: argparse.Namespace, paths: list[Path], settings: Settings, root: Path) -> list[FileResult]:
    cwd = os.getcwd()
    unlisted: list[tuple[Path, str]] = []
    cache = None if args.no_cache else ResultCache(root / CACHE_DIRECTORY, settings.fingerprint())
    walks = cache.walks if cache is not None else None
    files = [(path, display(path, cwd)) for path in rust_files(paths, settings.exclude, root, unlisted, walks)]
    shown = progress.on_terminal(len(files), args.quiet)
    try:
        results = check_files(files, settings, cache, args.jobs, shown)
    finally:
        if shown is not None:
            shown.close()
    if cache is not None and cache.problem:
        print(f"safety-ls: warning: {cache.problem}", file=sys.stderr)
    return results + [FileResult(display(path, cwd), error=reason) for path, reason in unlisted]


def _report(args: argparse.Namespace, results: list[FileResult], root: Path) -> None:
    if args.statistics:
        from safety_ls.cli.formats import statistics

        sys.stdout.write(statistics.render(results, as_json=args.format == "json"))
    else:
        sys.stdout.write(render(args.format, results, root, colour=colour_wanted(), summary=not args.quiet))


def _with_baseline(args: argparse.Namespace, results: list[FileResult], root: Path) -> list[FileResult]:
    """`--baseline`: reports the results not recorded and returns them. `--write-baseline`: records
    the results and says so, on stdout in place of the report for people, on stderr beside an
    (empty) machine-readable report, whose readers expect one document on stdout."""
    from safety_ls.engine import baseline  # only a run that names a baseline loads it

    try:
        recorded, note = baseline.apply(results, read_from=args.baseline, write_to=args.write_baseline)
    except baseline.BaselineError as error:
        raise UsageError(str(error)) from None
    if args.write_baseline and args.format in ("text", "concise"):
        print(f"{note[0].upper()}{note[1:]}.")
        return results
    if not (args.quiet and args.baseline):
        print(f"safety-ls: {note}", file=sys.stderr)
    _report(args, recorded, root)
    return results if args.write_baseline else recorded


def run(args: argparse.Namespace) -> int:
    paths: list[Path] = args.paths or [Path(".")]
    reads_stdin = any(str(path) == "-" for path in paths)
    if reads_stdin and len(paths) > 1:
        raise UsageError("`-` (stdin) cannot be combined with other paths")
    require_existing(paths)
    anchor = Path(args.stdin_filename) if reads_stdin and args.stdin_filename else paths[0]
    anchor = anchor if str(anchor) != "-" else Path(".")
    settings = settings_for(args, anchor if anchor.exists() else Path("."))
    root = project_root(settings)
    results = _check_stdin(args, settings) if reads_stdin else _check_tree(args, paths, settings, root)
    if args.baseline or args.write_baseline:
        results = _with_baseline(args, results, root)
    else:
        _report(args, results, root)
    errors = 0
    for result in results:
        if result.error is not None:
            errors += 1
            print(f"safety-ls: error: {result.path}: {result.error}", file=sys.stderr)
        for warning in result.warnings:
            print(f"safety-ls: warning: {result.path}: {warning}", file=sys.stderr)
    if errors:
        print(f"safety-ls: {errors} file(s) could not be checked; the others were", file=sys.stderr)
        return EXIT_ERROR
    if args.write_baseline or args.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if fails(results, args.fail_on) else EXIT_CLEAN
