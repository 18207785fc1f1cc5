#!/usr/bin/env python3
"""Regenerate what the docs say about rules from the rules themselves.

Writes the README's rule table (between the `rules-table` markers); every rule's full page is
`safety-ls rules ID`. tests/packaging/test_architecture.py fails when the table is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from safety_ls.rules import rules_table  # noqa: E402

START, END = "<!-- rules-table:start (scripts/generate_docs.py) -->", "<!-- rules-table:end -->"


def readme_with_table(readme: str) -> str:
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{rules_table()}\n{END}{after}"


def main() -> None:
    readme = ROOT / "README.md"
    readme.write_text(readme_with_table(readme.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
