#!/usr/bin/env python3
"""Regenerate what is derived from the rules themselves.

Writes the README's rule table (between the `rules-table` markers; every rule's full page is
`safety-ls rules ID`) and server/safety_ls/config/rule_ids.py, the ids settings may name, which
lets a command validate its configuration without importing the rules and their parsers (a cached
`check` never needs them). tests/packaging/test_architecture.py fails when either is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from safety_ls.rules import ALL_RULES, rules_table  # noqa: E402

START, END = "<!-- rules-table:start (scripts/generate_docs.py) -->", "<!-- rules-table:end -->"


def readme_with_table(readme: str) -> str:
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{rules_table()}\n{END}{after}"


RULE_IDS_MODULE = ROOT / "server/safety_ls/config/rule_ids.py"


def rule_ids_module() -> str:
    ids = "".join(f'        "{rule_id}",\n' for rule_id in sorted(ALL_RULES))
    return (
        '"""The id of every rule, generated from rules/ by scripts/generate_docs.py (do not edit).\n\n'
        "Settings are validated against these without importing the rules and their parsers.\n"
        '"""\n\n'
        f"RULE_IDS = frozenset(\n    (\n{ids}    )\n)\n"
    )


def main() -> None:
    readme = ROOT / "README.md"
    readme.write_text(readme_with_table(readme.read_text(encoding="utf-8")), encoding="utf-8")
    RULE_IDS_MODULE.write_text(rule_ids_module(), encoding="utf-8")


if __name__ == "__main__":
    main()
