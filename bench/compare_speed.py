#!/usr/bin/env python3
"""`check` speed of this checkout against an earlier revision, in runs that alternate between them.

A virtual machine's speed can drift by 2x within minutes, so a single run of each side, or all runs
of one side before the other's, compares the machine more than the code. Each round runs, for each
side: a cached check of the whole tree, the pre-commit case (the file `--changed-file` gets a
comment appended, then it is checked alone), the floor beside it (a cold python that imports
tree-sitter and parses that file) and a check that fills the cache again; then `--no-cache` checks
alternate. Medians are printed with each side's runs, wall and CPU (user + system) seconds.

    python bench/compare_speed.py --before REV DIR --changed-file REL [--rounds 7] [--uncached-rounds 3]

Each side works in its own copy of DIR under `--scratch` (default: the parent of this checkout), a
directory whose ancestors do not change while it runs (a copy under /tmp would see /tmp's
directory change and walk again); the revision runs from a temporary git worktree with the same
interpreter (PYTHONPATH at its `server/`), both compiled to bytecode first.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = (
    "import sys, tree_sitter_rust\n"
    "from tree_sitter import Language, Parser\n"
    "Parser(Language(tree_sitter_rust.language())).parse(open(sys.argv[1], 'rb').read())"
)


def timed(command: list[str], cwd: Path, server: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one run."""
    env = {**os.environ, "PYTHONPATH": str(server), "PYTHONHASHSEED": "0"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[-2000:]}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def check(*args: str) -> list[str]:
    return [sys.executable, "-m", "safety_ls", "check", "--exit-zero", "--format", "json", *args]


def report(name: str, samples: dict[str, list[tuple[float, float]]]) -> None:
    for what, runs in samples.items():
        wall = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        shown = ", ".join(f"{run[0] * 1000:.0f}" for run in runs)
        print(f"  {name:6} {what:10} median {wall * 1000:7.0f} ms wall, {cpu * 1000:7.0f} ms CPU   runs: {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--before", required=True, help="the revision to compare with")
    parser.add_argument("--changed-file", required=True, help="a file of DIR, relative to it, for the pre-commit case")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--uncached-rounds", type=int, default=3)
    parser.add_argument("--scratch", type=Path, default=ROOT.parent)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
        work = Path(scratch)
        servers = {"before": work / "before-tree" / "server", "after": ROOT / "server"}
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(work / "before-tree"), args.before], check=True)
        try:
            for server in servers.values():
                compileall.compile_dir(str(server / "safety_ls"), quiet=1)
            copies = {}
            for side, server in servers.items():
                copies[side] = work / side
                shutil.copytree(args.directory, copies[side], symlinks=True)
                timed(check("."), copies[side], server)  # fill the cache
            samples = {side: {"cached": [], "pre-commit": [], "floor": [], "no cache": []} for side in servers}
            for round_number in range(args.rounds):
                for side, server in servers.items():
                    copy = copies[side]
                    samples[side]["cached"].append(timed(check("."), copy, server))
                    with open(copy / args.changed_file, "a", encoding="utf-8") as stream:
                        stream.write(f"// round {round_number}\n")
                    samples[side]["pre-commit"].append(timed(check(args.changed_file), copy, server))
                    samples[side]["floor"].append(timed([sys.executable, "-c", FLOOR, args.changed_file], copy, server))
                    timed(check("."), copy, server)  # every file cached again
            for _ in range(args.uncached_rounds):
                for side, server in servers.items():
                    samples[side]["no cache"].append(timed(check("--no-cache", "."), copies[side], server))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(work / "before-tree")], check=True)
    print(f"{args.directory}: {args.rounds} alternating rounds, before = {args.before}, after = this checkout")
    for side in servers:
        report(side, samples[side])
        medians = {what: statistics.median(run[0] for run in runs) for what, runs in samples[side].items()}
        print(
            f"  {side:6} pre-commit / floor {medians['pre-commit'] / medians['floor']:.1f}; "
            f"cached / no cache {100 * medians['cached'] / medians['no cache']:.1f}%"
        )


if __name__ == "__main__":
    main()
