"""What several commands share: exit codes, usage errors, rule options and how paths are shown."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from safety_ls.config.loader import load_settings
from safety_ls.config.rule_ids import RULE_IDS
from safety_ls.core.settings import PROFILES, Settings

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    pass


def rule_list(value: str) -> frozenset[str]:
    names = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = sorted(name for name in names if name not in RULE_IDS and name != "ALL")
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown rule id {unknown[0]!r}; `safety-ls rules` lists them")
    return names


def add_rule_options(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("--select", type=rule_list, help=f"only {verb} these rules (comma-separated ids, or ALL)")
    parser.add_argument("--ignore", type=rule_list, help=f"do not {verb} these rules")
    parser.add_argument("--profile", choices=PROFILES, help="rule set: default, structured or grit")
    parser.add_argument("--config", type=Path, help="use this config file instead of searching for one")


def settings_for(args: argparse.Namespace, anchor: Path) -> Settings:
    """The config found from `anchor` (or --config), with the rule options applied on top."""
    settings = load_settings(anchor, args.config)
    if args.profile:
        settings = replace(settings, profile=args.profile)
    if args.select is not None:
        settings = replace(settings, select=args.select, extend_select=frozenset())
    if args.ignore:
        settings = replace(settings, ignore=settings.ignore | args.ignore)
    return settings


def project_root(settings: Settings) -> Path:
    """Where the config file is, else the working directory."""
    return Path(settings.root) if settings.root else Path.cwd()


def require_existing(paths: list[Path]) -> None:
    for path in paths:
        if str(path) != "-" and not os.path.lexists(path):  # a broken symlink is that file's error, not the run's
            raise UsageError(f"{path}: no such file or directory")


def display(path: Path, cwd: str) -> str:
    """The path as people see it: relative to the working directory when under it."""
    absolute = os.path.abspath(path)
    under = cwd if cwd.endswith(os.sep) else cwd + os.sep
    shown = absolute[len(under) :] if absolute.startswith(under) else absolute
    return shown.replace(os.sep, "/")
