"""Precision and recall of safety-ls against clippy 1.95 on the Debian crate corpus.

Reads the oracle recorded by tests/support/clippy_oracle.py (bench/data/clippy-oracle.json
by default; regenerate it with `python tests/support/clippy_oracle.py $(scripts/install-corpus.sh --dirs) --out ...`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from clippy_agreement import LINT_RULES, Agreement, compare  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--oracle", type=Path, default=ROOT / "bench/data/clippy-oracle.json")
    parser.add_argument("--show", type=int, default=5, help="disagreements to print per lint")
    args = parser.parse_args()
    entries = [entry for entry in json.loads(args.oracle.read_text()) if not entry.get("error")]
    total = Agreement()
    started = time.perf_counter()
    for entry in entries:
        if not Path(entry["root"]).is_dir():
            print(f"skipping {entry['crate']}: {entry['root']} is not installed (scripts/install-corpus.sh)")
            continue
        agreement = compare(entry)
        total.add(agreement)
        misses = sum(len(agreement.false_positives[l]) + len(agreement.false_negatives[l]) for l in LINT_RULES)
        print(f"{entry['crate']:<20} disagreements: {misses}")
    print(f"\ncompared {len(entries)} crates in {time.perf_counter() - started:.1f} s")
    for lint in LINT_RULES:
        tp = total.true_positives[lint]
        fp, fn = total.false_positives[lint], total.false_negatives[lint]
        print(f"{lint}: clippy {tp + len(fn)}, safety-ls {tp + len(fp)}, agreed {tp}; "
              f"precision {total.precision(lint):.4f}, recall {total.recall(lint):.4f}")
        for label, sites in (("only safety-ls", fp), ("only clippy", fn)):
            for site in sites[: args.show]:
                print(f"    {label}: {site}")


if __name__ == "__main__":
    main()
