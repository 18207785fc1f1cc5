#!/usr/bin/env python3
"""Time `safety-ls fix --diff` over the Debian crate corpus (scripts/install-corpus.sh).

    python bench/fix_speed.py [--dirs N] [--profile P]

Prints the wall time of one `fix --diff` run over every corpus directory, the
files and lines it covered, lines per second, and how many findings a fix
would resolve (from a separate, untimed `fix --check` run) and how many lines
the diff adds. Nothing is written: `--diff` and `--check` only report.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from safety_ls.engine.discovery import rust_files  # noqa: E402


def corpus_dirs() -> list[str]:
    done = subprocess.run([str(ROOT / "scripts/install-corpus.sh"), "--dirs"], capture_output=True, text=True)
    return [line for line in done.stdout.splitlines() if line.strip() and Path(line).is_dir()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dirs", type=int, default=None, help="only the first N corpus directories")
    parser.add_argument("--profile", default=None, help="rule profile (default: the config's, else default)")
    args = parser.parse_args()
    directories = corpus_dirs()[: args.dirs]
    if not directories:
        print("the Debian crate corpus is not installed: run scripts/install-corpus.sh", file=sys.stderr)
        return 2
    files = list(rust_files([Path(d) for d in directories], (), Path.cwd()))
    lines = sum(path.read_bytes().count(b"\n") for path in files)
    extra = ["--profile", args.profile] if args.profile else []
    command = [sys.executable, "-m", "safety_ls", "fix", "--diff", *extra, *directories]
    environment = {**os.environ, "NO_COLOR": "1"}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        print(done.stderr[-4000:], file=sys.stderr)
        return 2
    diff = done.stdout.splitlines()
    added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
    changed_files = sum(1 for line in diff if line.startswith("+++ "))
    checked = subprocess.run(
        [sys.executable, "-m", "safety_ls", "fix", "--check", *extra, *directories],
        capture_output=True, text=True, env=environment,
    )
    fixes = sum(int(m.group(1)) for m in re.finditer(r"^would fix (\d+) finding", checked.stdout, re.M))
    print(f"directories: {len(directories)}")
    print(f"files:       {len(files)}")
    print(f"lines:       {lines}")
    print(f"seconds:     {seconds:.2f}")
    print(f"lines/s:     {lines / seconds:,.0f}")
    print(f"fixes:       {fixes} findings in {changed_files} files ({added} lines added by the diff)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
