"""Findings per rule on real crates, before and after, with a sample to read by hand.

    python bench/convention_findings.py /work/corpora/candle-mi /work/corpora/candle \
        --before /work/snap --select ALL --sample 20 --seed 14

For each corpus path: the findings per rule now (`safety-ls check`, default profile or
`--select`), next to a recorded snapshot `<before>/before-<name>.json` (`-all` with
`--select ALL`) when there is one. `--sample N` prints N random findings per rule with
their source line, to judge by hand. `--tagged` counts the CAST/PROMOTE/CONTIGUOUS
findings whose statement or attribute run carries the rule's tag, read from the text
alone (independent of the placement code being measured): the false alarms the
conventions' authors would see first.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG_OF_RULE = {"missing-cast": "CAST", "missing-promote": "PROMOTE", "missing-contiguous": "CONTIGUOUS"}
# How far up from a site the statement start and its comment run are looked for.
_STATEMENT_LINES = 12


def run_check(corpus: Path, select: str | None, config: Path | None) -> list[dict]:
    command = [str(ROOT / ".venv/bin/safety-ls"), "check", "--no-cache", "--exit-zero", "--format", "json"]
    if select:
        command += ["--select", select]
    if config:
        command += ["--config", str(config)]
    environment = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(command + [str(corpus)], capture_output=True, text=True, env=environment, check=True)
    return json.loads(done.stdout)["diagnostics"]


def snapshot(before: Path | None, corpus: Path, select: str | None) -> list[dict] | None:
    if before is None:
        return None
    suffix = "-all" if select == "ALL" else ""
    path = before / f"before-{corpus.name}{suffix}.json"
    return json.loads(path.read_text())["diagnostics"] if path.is_file() else None


def _lines(path: str, cache: dict[str, list[str]]) -> list[str]:
    if path not in cache:
        cache[path] = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    return cache[path]


def tag_in_statement(lines: list[str], line: int, tag: str) -> bool:
    """Whether the statement holding 1-based `line`, or the comments and attributes above it, say `TAG:`.

    The statement starts after the nearest line above that ends with `;`, `{` or `}`
    (a crude but independent reading); its run of comment and attribute lines above counts.
    """
    index = line - 1
    start = index
    while start > 0 and index - start < _STATEMENT_LINES:
        above = lines[start - 1].strip()
        if above.endswith((";", "{", "}")) and not above.startswith(("//", "#")):
            break
        start -= 1
    if any(f"{tag}:" in text for text in lines[start : index + 1]):
        return True
    probe = start - 1
    while probe >= 0 and lines[probe].strip().startswith(("//", "#", ")]", "clippy::")):
        if f"{tag}:" in lines[probe]:
            return True
        probe -= 1
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="+", type=Path)
    parser.add_argument("--before", type=Path, help="directory of before-<name>[-all].json snapshots")
    parser.add_argument("--select", help="rule ids, or ALL (default: the default profile)")
    parser.add_argument("--config", type=Path, help="a safety-ls.toml to check with")
    parser.add_argument("--sample", type=int, default=0, help="findings per rule to print for reading")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--tagged", action="store_true", help="count findings whose statement carries the tag")
    args = parser.parse_args()
    cache: dict[str, list[str]] = {}
    for corpus in args.corpora:
        now = run_check(corpus, args.select, args.config)
        before = snapshot(args.before, corpus, args.select)
        after_counts = collections.Counter(d["rule"] for d in now)
        before_counts = collections.Counter(d["rule"] for d in before or [])
        print(f"\n## {corpus.name}  ({len(before) if before is not None else '?'} → {len(now)} findings)")
        for rule in sorted(set(after_counts) | set(before_counts)):
            was = before_counts[rule] if before is not None else "?"
            print(f"  {rule:<28} {was!s:>6} → {after_counts[rule]:>6}")
        if args.tagged:
            tagged = [
                d for d in now if d["rule"] in TAG_OF_RULE
                and tag_in_statement(_lines(d["path"], cache), d["line"], TAG_OF_RULE[d["rule"]])
            ]
            print(f"  findings on sites whose statement or attribute run carries the tag: {len(tagged)}")
            for d in tagged:
                print(f"    {d['path']}:{d['line']} {d['rule']}")
        if args.sample:
            chooser = random.Random(args.seed)
            by_rule = collections.defaultdict(list)
            for d in now:
                by_rule[d["rule"]].append(d)
            for rule, found in sorted(by_rule.items()):
                picked = chooser.sample(found, min(args.sample, len(found)))
                print(f"\n### sample: {rule} ({len(picked)} of {len(found)})")
                for d in picked:
                    text = _lines(d["path"], cache)[d["line"] - 1].strip()
                    print(f"  {d['path']}:{d['line']}: {text[:140]}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
