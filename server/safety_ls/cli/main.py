"""The `safety-ls` command line. Exit codes: 0 clean, 1 findings, 2 error."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import stat
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from safety_ls import __version__
from safety_ls.cli import audit as audit_command
from safety_ls.cli import validate as gpu_cli
from safety_ls.cli.formats import FORMATS, github, json_format, sarif, text
from safety_ls.config.loader import ConfigError, load_settings
from safety_ls.config.templates import TemplateError, Templates
from safety_ls.core.crate import crate_dir_of, crate_index
from safety_ls.core.findings import Diagnostic
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceError, SourceText
from safety_ls.engine import baseline
from safety_ls.engine.analyze import FileResult, analyze
from safety_ls.engine.baseline import BaselineError
from safety_ls.engine.cache import CACHE_DIRECTORY, ResultCache
from safety_ls.engine.discovery import rust_files
from safety_ls.engine.workspace import check_files
from safety_ls.fixes.alloc_wrapper import WrapperPlan, wrapper_insertion
from safety_ls.fixes.apply import FileLocation, fix_source
from safety_ls.rules import ALL_RULES, PROFILES

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    pass


def _rule_list(value: str) -> frozenset[str]:
    names = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = sorted(name for name in names if name not in ALL_RULES and name != "ALL")
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown rule id {unknown[0]!r}; `safety-ls rules` lists them"
        )
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="safety-ls",
        description="Checks that unsafe code, dtype promotions, layout copies and numeric casts "
        "in Rust carry their written justification.",
    )
    parser.add_argument("--version", action="version", version=f"safety-ls {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="report missing or weak annotations")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or directories (default: .); - reads stdin")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--select", type=_rule_list, help="only these rules (comma-separated ids, or ALL)")
    check.add_argument("--ignore", type=_rule_list, help="skip these rules")
    check.add_argument("--profile", choices=PROFILES, help="rule set: default, structured or grit")
    check.add_argument("--config", type=Path, help="use this config file instead of searching for one")
    check.add_argument("--stdin-filename", help="the name to report (and resolve config from) for stdin")
    check.add_argument("--no-cache", action="store_true", help="analyse every file, ignoring the cache")
    check.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    recorded = check.add_mutually_exclusive_group()
    recorded.add_argument("--baseline", type=Path, metavar="FILE", help="report only findings not recorded in FILE")
    recorded.add_argument("--write-baseline", type=Path, metavar="FILE", help="record every finding in FILE; exit 0")

    fix = commands.add_parser("fix", help="insert annotation templates where they are missing")
    fix.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or directories (default: .)")
    fix.add_argument("--select", type=_rule_list, help="only fix these rules (comma-separated ids)")
    fix.add_argument("--ignore", type=_rule_list, help="do not fix these rules")
    fix.add_argument("--profile", choices=PROFILES, help="rule set: default, structured or grit")
    fix.add_argument("--config", type=Path, help="use this config file instead of searching for one")
    mode = fix.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print the changes as a unified diff; write nothing")
    mode.add_argument("--check", action="store_true", help="list the files that would change; write nothing")

    serve = commands.add_parser("serve", help="run the language server")
    serve.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default, and the only transport)")

    audit = commands.add_parser("audit", help="inventory of unsafe code per crate, with CI gates")
    audit.add_argument("path", type=Path, metavar="PATH", help="a Cargo workspace, a crate, or a directory of .rs files")
    audit.add_argument("--format", choices=audit_command.FORMATS, default="markdown")
    audit.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout")
    audit.add_argument("--compare", type=Path, metavar="OLD.json", help="show what changed since this JSON report")
    audit.add_argument("--max-undocumented", type=audit_command.non_negative_int, metavar="N", help="fail (exit 1) above N undocumented unsafe sites")
    audit.add_argument("--max-unsafe-percent", type=audit_command.percentage, metavar="P", help="fail (exit 1) when a crate has over P%% of its lines inside unsafe")
    audit.add_argument("--config", type=Path, help="use this config file instead of searching for one")
    audit.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    gpu_cli.add_parser(commands, FORMATS)

    rules = commands.add_parser("rules", help="list the rules, or explain one")
    rules.add_argument("rule", nargs="?", help="a rule id to explain")
    return parser


def _display(path: Path, cwd: str) -> str:
    """The path as people see it: relative to the working directory when under it."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, cwd)
    return Path(absolute).as_posix() if relative.startswith("..") else Path(relative).as_posix()


def _settings(args: argparse.Namespace, anchor: Path) -> Settings:
    settings = load_settings(anchor, args.config)
    if args.profile:
        settings = replace(settings, profile=args.profile)
    if args.select is not None:
        settings = replace(settings, select=args.select, extend_select=frozenset())
    if args.ignore:
        settings = replace(settings, ignore=settings.ignore | args.ignore)
    return settings


def _check_stdin(args: argparse.Namespace, settings: Settings) -> list[FileResult]:
    name = args.stdin_filename or "-"
    try:
        source = SourceText(sys.stdin.buffer.read())
    except SourceError as error:
        return [FileResult(name, error=str(error))]
    path = Path(name)
    crate_dir = crate_dir_of(path) if args.stdin_filename else None
    crate = crate_index(crate_dir) if crate_dir is not None else None
    return [analyze(source, name, settings, crate=crate, file=path if crate is not None else None)]


def _render(args: argparse.Namespace, results: list[FileResult], root: Path) -> str:
    if args.format == "json":
        return json_format.render(results)
    if args.format == "sarif":
        return sarif.render(results, root)
    if args.format == "github":
        return github.render(results)
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ or "FORCE_COLOR" in os.environ
    return text.render(results, colour)


def run_check(args: argparse.Namespace) -> int:
    paths: list[Path] = args.paths or [Path(".")]
    reads_stdin = any(str(path) == "-" for path in paths)
    if reads_stdin and len(paths) > 1:
        raise UsageError("`-` (stdin) cannot be combined with other paths")
    for path in paths:
        if str(path) != "-" and not path.exists():
            raise UsageError(f"{path}: no such file or directory")
    anchor = Path(args.stdin_filename) if reads_stdin and args.stdin_filename else paths[0]
    anchor = anchor if str(anchor) != "-" else Path(".")
    settings = _settings(args, anchor if anchor.exists() else Path("."))
    # The project root: where the config file is, else the working directory.
    root = Path(settings.root) if settings.root else Path.cwd()
    if reads_stdin:
        results = _check_stdin(args, settings)
    else:
        cwd = os.getcwd()
        files = [(path, _display(path, cwd)) for path in rust_files(paths, settings.exclude, root)]
        cache = None if args.no_cache else ResultCache(root / CACHE_DIRECTORY, settings.fingerprint())
        results = check_files(files, settings, cache, args.jobs)
    if args.baseline or args.write_baseline:
        results, note = baseline.apply(results, read_from=args.baseline, write_to=args.write_baseline)
        print(f"safety-ls: {note}", file=sys.stderr)
    sys.stdout.write(_render(args, results, root))
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
    found = any(result.diagnostics for result in results)
    return EXIT_FINDINGS if found and not args.exit_zero else EXIT_CLEAN


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step: a reader sees the old file or the new one, never half."""
    mode = path.stat().st_mode
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".safety-ls")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, stat.S_IMODE(mode))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def run_fix(args: argparse.Namespace) -> int:
    paths: list[Path] = args.paths or [Path(".")]
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
    settings = _settings(args, paths[0])
    root = Path(settings.root) if settings.root else Path.cwd()
    template_dir = (root / settings.template_dir) if settings.template_dir else None
    templates = Templates(template_dir)
    plan = WrapperPlan(settings.alloc_wrapper_module)
    cwd = os.getcwd()
    changed = fixed_count = errors = 0
    remaining: list[Diagnostic] = []
    for path in rust_files(paths, settings.exclude, root):
        display = _display(path, cwd)
        try:
            raw = path.read_bytes()
            if len(raw) > settings.max_file_size:
                raise SourceError(f"file is larger than max-file-size ({settings.max_file_size} bytes); not fixed")
            crate_dir = crate_dir_of(path)
            crate = crate_index(crate_dir) if crate_dir is not None else None
            location = FileLocation(path, crate_dir, plan)
            outcome = fix_source(raw, display, settings, templates, crate=crate, file=path.resolve(), location=location)
        except (SourceError, OSError) as error:
            errors += 1
            print(f"safety-ls: error: {display}: {error}", file=sys.stderr)
            continue
        except TemplateError as error:
            errors += 1
            print(f"safety-ls: error: {display}: {error}", file=sys.stderr)
            continue
        for warning in outcome.warnings:
            print(f"safety-ls: warning: {display}: {warning}", file=sys.stderr)
        remaining.extend(outcome.remaining)
        if outcome.fixed == outcome.original:
            continue
        changed += 1
        fixed_count += sum(len(fix.diagnostics) for fix in outcome.applied)
        if args.diff:
            sys.stdout.write(_unified_diff(display, outcome.original, outcome.fixed))
        elif args.check:
            print(f"would fix {sum(len(f.diagnostics) for f in outcome.applied)} finding(s) in {display}")
        else:
            _write_atomically(path, outcome.fixed)
    for path, wrappers in plan.pending.items():  # the wrapper's home when it is not a fixed file
        before = path.read_bytes()
        newline = "\r\n" if b"\r\n" in before else "\n"
        offset, text = wrapper_insertion(before, newline.join(wrappers).replace("\n", newline), newline)
        after = before[:offset] + text.encode() + before[offset:]
        changed += 1
        display = _display(path, cwd)
        if args.diff:
            sys.stdout.write(_unified_diff(display, before, after))
        elif args.check:
            print(f"would add the allocation wrapper to {display}")
        else:
            _write_atomically(path, after)
    for problem in templates.problems:
        print(f"safety-ls: warning: {problem}; the built-in template was used", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    if args.diff or args.check:
        if not changed:
            print("No fixes available.", file=sys.stderr if args.diff else sys.stdout)
        return EXIT_FINDINGS if changed else EXIT_CLEAN
    placeholders = sum(1 for d in remaining if d.rule == "placeholder-annotation")
    print(
        f"Fixed {fixed_count} finding(s) in {changed} file(s); {len(remaining)} remaining"
        + (f", {placeholders} of them template placeholders to fill in" if placeholders else "")
        + "."
    )
    return EXIT_FINDINGS if remaining else EXIT_CLEAN


def _unified_diff(display: str, before: bytes, after: bytes) -> str:
    old = before.decode("utf-8", "replace").splitlines(keepends=True)
    new = after.decode("utf-8", "replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, fromfile=f"a/{display}", tofile=f"b/{display}"))


def run_rules(args: argparse.Namespace) -> int:
    if args.rule:
        rule = ALL_RULES.get(args.rule)
        if rule is None:
            raise UsageError(f"unknown rule id {args.rule!r}")
        print(f"{rule.id}: {rule.summary}\n")
        print(rule.explanation)
        print(f"\nprofiles: {', '.join(sorted(rule.profiles))}; default severity: {rule.default_severity.value}")
        if rule.clippy_lint:
            print(f"mirrors clippy::{rule.clippy_lint}")
        return EXIT_CLEAN
    width = max(len(rule_id) for rule_id in ALL_RULES)
    for rule_id in sorted(ALL_RULES):
        rule = ALL_RULES[rule_id]
        profiles = "" if len(rule.profiles) == len(PROFILES) else f" [{', '.join(sorted(rule.profiles))}]"
        print(f"{rule_id:<{width}}  {rule.summary}{profiles}")
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "fix":
            return run_fix(args)
        if args.command == "audit":
            return audit_command.run(args)
        if args.command == "validate":
            return gpu_cli.run_validate(args, _render, _display)
        if args.command == "serve":
            from safety_ls.lsp.server import (
                serve,  # the LSP stack loads only when serving
            )

            serve()
            return EXIT_CLEAN
        return run_rules(args)
    except (ConfigError, UsageError, BaselineError) as error:
        print(f"safety-ls: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # never exit 1 (the findings code) on a crash
        import traceback

        traceback.print_exc()
        print(f"safety-ls: internal error: {error!r}; please report it with the trace above", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
