"""`safety-ls rules`: list the rules, or explain one."""

from __future__ import annotations

import argparse

from safety_ls.cli.options import EXIT_CLEAN, UsageError
from safety_ls.core.settings import PROFILES
from safety_ls.rules import ALL_RULES


def add_arguments(rules: argparse.ArgumentParser) -> None:
    rules.add_argument("rule", nargs="?", help="a rule id to explain")


def run(args: argparse.Namespace) -> int:
    if args.rule:
        rule = ALL_RULES.get(args.rule)
        if rule is None:
            raise UsageError(f"unknown rule id {args.rule!r}")
        print(rule.documentation())
        return EXIT_CLEAN
    width = max(len(rule_id) for rule_id in ALL_RULES)
    for rule_id in sorted(ALL_RULES):
        rule = ALL_RULES[rule_id]
        profiles = "" if len(rule.profiles) == len(PROFILES) else f" [{', '.join(sorted(rule.profiles))}]"
        print(f"{rule_id:<{width}}  {rule.summary}{profiles}")
    return EXIT_CLEAN
