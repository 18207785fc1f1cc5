#!/usr/bin/env python3
"""Does a change keep `check --format json` byte-identical? Compares two revisions on real code.

    python bench/identical_output.py --before REV [--select ALL] PATH...

Each revision is checked out in a temporary git worktree and run as `python -m safety_ls check
--no-cache --format json` with the same interpreter (PYTHONPATH pointing at its `server/`) and a
fixed PYTHONHASHSEED. The `before` side runs twice: diagnostics that differ between its own two
runs are reported as unstable and not counted against the change.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def check(tree: Path, paths: list[str], select: str) -> tuple[bytes, list[dict]]:
    env = {**os.environ, "PYTHONPATH": str(tree / "server"), "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "safety_ls", "check", "--no-cache", "--format", "json", "--select", select, *paths],
        capture_output=True,
        env=env,
        cwd=ROOT,
    )
    if done.returncode not in (0, 1):
        sys.exit(f"check failed in {tree}: {done.stderr.decode()[-2000:]}")
    return done.stdout, json.loads(done.stdout)["diagnostics"]


def keyed(diagnostics: list[dict]) -> collections.Counter:
    return collections.Counter(json.dumps(d, sort_keys=True) for d in diagnostics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the revision to compare with (e.g. a commit before the change)")
    parser.add_argument("--select", default="ALL")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        before_tree = Path(scratch) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(before_tree), args.before], check=True)
        try:
            raw_before, before = check(before_tree, args.paths, args.select)
            _, before_again = check(before_tree, args.paths, args.select)
            raw_after, after = check(ROOT, args.paths, args.select)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before_tree)], check=True)
    unstable = (keyed(before) - keyed(before_again)) + (keyed(before_again) - keyed(before))
    removed = keyed(before) - keyed(after) - unstable
    added = keyed(after) - keyed(before) - unstable
    print(f"diagnostics: before {len(before)}, after {len(after)}")
    print(f"byte-identical: {raw_before == raw_after}")
    print(f"unstable in `before` itself (differ between two of its runs): {sum(unstable.values())}")
    print(f"changed beyond that: {sum(removed.values())} removed, {sum(added.values())} added")
    for label, changes in (("removed", removed), ("added", added)):
        rules = collections.Counter(json.loads(text)["rule"] for text in changes.elements())
        if rules:
            print(f"  {label} by rule: {dict(rules.most_common())}")


if __name__ == "__main__":
    main()
