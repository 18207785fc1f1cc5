"""Agreement of safety-ls with clippy on crates clippy compiled (see clippy_oracle.py).

Only sites clippy actually compiled count: the oracle lists every unsafe
block, fn, impl and trait rustc saw (`--force-warn unsafe_code`), so code
behind a disabled `cfg` is left out of both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safety_ls.config.loader import load_settings
from safety_ls.engine.analyze import check_path
from safety_ls.engine.discovery import rust_files

LINT_RULES = {
    "undocumented_unsafe_blocks": ("undocumented-unsafe-block", "undocumented-unsafe-impl"),
    "missing_safety_doc": ("missing-safety-doc",),
}
RULE_LINT = {rule: lint for lint, rules in LINT_RULES.items() for rule in rules}

Site = tuple[str, int, int, str]  # path relative to the crate, line, column, clippy lint


@dataclass
class Agreement:
    true_positives: dict[str, int] = field(default_factory=dict)
    false_positives: dict[str, list[Site]] = field(default_factory=dict)
    false_negatives: dict[str, list[Site]] = field(default_factory=dict)

    def add(self, other: "Agreement") -> None:
        for lint in LINT_RULES:
            self.true_positives[lint] = self.true_positives.get(lint, 0) + other.true_positives.get(lint, 0)
            self.false_positives.setdefault(lint, []).extend(other.false_positives.get(lint, []))
            self.false_negatives.setdefault(lint, []).extend(other.false_negatives.get(lint, []))

    def precision(self, lint: str) -> float:
        tp, fp = self.true_positives.get(lint, 0), len(self.false_positives.get(lint, []))
        return tp / (tp + fp) if tp + fp else 1.0

    def recall(self, lint: str) -> float:
        tp, fn = self.true_positives.get(lint, 0), len(self.false_negatives.get(lint, []))
        return tp / (tp + fn) if tp + fn else 1.0


def safety_ls_sites(crate_root: Path) -> set[Site]:
    settings = load_settings(crate_root)
    found: set[Site] = set()
    for path in rust_files([crate_root]):
        result = check_path(path, path.relative_to(crate_root).as_posix(), settings)
        for d in result.diagnostics:
            if d.rule in RULE_LINT:
                found.add((d.path, d.line, d.column, RULE_LINT[d.rule]))
    return found


def compare(entry: dict[str, Any]) -> Agreement:
    """Agreement on one crate's oracle entry."""
    compiled = {(site["path"], site["line"], site["column"]) for site in entry["compiled"]}
    clippy = {(s["path"], s["line"], s["column"], s["lint"]) for s in entry["clippy"]}
    ours = {site for site in safety_ls_sites(Path(entry["root"])) if site[:3] in compiled}
    agreement = Agreement()
    for lint in LINT_RULES:
        theirs = {site for site in clippy if site[3] == lint}
        mine = {site for site in ours if site[3] == lint}
        agreement.true_positives[lint] = len(theirs & mine)
        agreement.false_positives[lint] = sorted(mine - theirs)
        agreement.false_negatives[lint] = sorted(theirs - mine)
    return agreement
