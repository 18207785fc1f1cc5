"""`safety-ls fix`: insert annotation templates where they are missing.

Exit codes: 0 nothing left to do, 1 findings remain (or, with --diff/--check,
files would change), 2 an error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from safety_ls.cli.options import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    add_rule_options,
    display,
    require_existing,
    settings_for,
)
from safety_ls.config.templates import TemplateError, Templates
from safety_ls.core.crate import crate_index
from safety_ls.core.crate_dirs import crate_dir_of
from safety_ls.core.files import write_bytes
from safety_ls.core.findings import Diagnostic
from safety_ls.core.source import SourceError
from safety_ls.engine.discovery import rust_files
from safety_ls.fixes.alloc_wrapper import WrapperPlan, wrapper_insertion
from safety_ls.fixes.apply import FileLocation, fix_source
from safety_ls.fixes.diff import lines_of, unified_diff
from safety_ls.rules.annotation_quality import PLACEHOLDER_ANNOTATION


def add_arguments(fix: argparse.ArgumentParser) -> None:
    fix.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or directories (default: .)")
    add_rule_options(fix, "fix")
    mode = fix.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print the changes as a unified diff; write nothing")
    mode.add_argument("--check", action="store_true", help="list the files that would change; write nothing")


def _unified_diff(shown: str, before: bytes, after: bytes) -> str:
    old, new = (lines_of(text.decode("utf-8", "replace")) for text in (before, after))
    return unified_diff(old, new, f"a/{shown}", f"b/{shown}")


def _common_folder(paths: list[Path]) -> Path:
    folders = [os.path.abspath(path if path.is_dir() else path.parent) for path in paths]
    return Path(os.path.commonpath(folders))


def _write_fixed(path: Path, data: bytes, root: Path, shown: str) -> bool:
    """Write a fixed file in one step, only inside the workspace `root`; say why not otherwise."""
    try:
        write_bytes(path, data, root=root, durable=True)
    except OSError as error:
        print(f"safety-ls: error: {shown}: not fixed: {error.strerror or error}", file=sys.stderr)
        return False
    return True


def run(args: argparse.Namespace) -> int:
    paths: list[Path] = args.paths or [Path(".")]
    require_existing(paths)
    settings = settings_for(args, paths[0])
    # Fixes write only inside the project: the config file's folder, else the folder(s) named.
    root = Path(settings.root) if settings.root else _common_folder(paths)
    templates = Templates((root / settings.template_dir) if settings.template_dir else None)
    plan = WrapperPlan(settings.alloc_wrapper_module, workspace=root)
    cwd = os.getcwd()
    changed = fixed_count = errors = 0
    remaining: list[Diagnostic] = []
    unlisted: list[tuple[Path, str]] = []
    for path in rust_files(paths, settings.exclude, root, unlisted):
        shown = display(path, cwd)
        try:
            raw = path.read_bytes()
            if len(raw) > settings.max_file_size:
                raise SourceError(f"file is larger than max-file-size ({settings.max_file_size} bytes); not fixed")
            crate_dir = crate_dir_of(path)
            crate = crate_index(crate_dir) if crate_dir is not None else None
            location = FileLocation(path, crate_dir, plan)
            outcome = fix_source(raw, shown, settings, templates, crate=crate, file=path.resolve(), location=location)
        except (SourceError, OSError, TemplateError) as error:
            errors += 1
            print(f"safety-ls: error: {shown}: {error}", file=sys.stderr)
            continue
        for warning in outcome.warnings:
            print(f"safety-ls: warning: {shown}: {warning}", file=sys.stderr)
        remaining.extend(outcome.remaining)
        if outcome.fixed == outcome.original:
            continue
        changed += 1
        applied = sum(len(fix.diagnostics) for fix in outcome.applied)
        fixed_count += applied
        if args.diff:
            sys.stdout.write(_unified_diff(shown, outcome.original, outcome.fixed))
        elif args.check:
            print(f"would fix {applied} finding(s) in {shown}")
        elif not _write_fixed(path, outcome.fixed, root, shown):
            errors += 1
    for path, wrappers in plan.pending.items():  # the wrapper's home when it is not a fixed file
        before = path.read_bytes()
        newline = "\r\n" if b"\r\n" in before else "\n"
        # Before any `#[cfg(test)]` module, as in a fixed file.
        offset, text = wrapper_insertion(before, "\n".join(wrappers).replace("\n", newline), newline)
        after = before[:offset] + text.encode() + before[offset:]
        changed += 1
        shown = display(path, cwd)
        if args.diff:
            sys.stdout.write(_unified_diff(shown, before, after))
        elif args.check:
            print(f"would add the allocation wrapper to {shown}")
        elif not _write_fixed(path, after, root, shown):
            errors += 1
    for path, reason in unlisted:
        errors += 1
        print(f"safety-ls: error: {display(path, cwd)}: {reason}", file=sys.stderr)
    for note in plan.notes:
        print(f"safety-ls: warning: {note}", file=sys.stderr)
    for problem in templates.problems:
        print(f"safety-ls: warning: {problem}; the built-in template was used", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    if args.diff or args.check:
        if not changed:
            print("No fixes available.", file=sys.stderr if args.diff else sys.stdout)
        return EXIT_FINDINGS if changed else EXIT_CLEAN
    placeholders = sum(1 for d in remaining if d.rule == PLACEHOLDER_ANNOTATION)
    print(
        f"Fixed {fixed_count} finding(s) in {changed} file(s); {len(remaining)} remaining"
        + (f", {placeholders} of them template placeholders to fill in" if placeholders else "")
        + "."
    )
    return EXIT_FINDINGS if remaining else EXIT_CLEAN
