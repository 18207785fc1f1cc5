#!/usr/bin/env python3
"""Does a cached `check` after edits print exactly what a `--no-cache` check prints? On real code.

Each DIR is copied (under `--scratch`), checked once to fill the cache, then edited in rounds; after
each round a cached check and a `--no-cache` check of the copy must give the same JSON. The edits
exercise what the cache keys on: a function body (no module change), a comment appended, a new
`pub mod` with a file, a file removed, a new `use`, a kernel string in a Rust file, an edited
`.gitignore`. Prints, per round, the seconds of each run and whether the outputs were identical.

    python bench/cache_consistency.py DIR [DIR ...] [--seed 1] [--scratch DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def check(copy: Path, *args: str) -> tuple[float, bytes]:
    command = [sys.executable, "-m", "safety_ls", "check", "--exit-zero", "--format", "json", *args, "."]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=copy, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if done.returncode != 0:
        raise SystemExit(f"check failed in {copy}: {done.stderr.decode()[-2000:]}")
    return time.perf_counter() - started, done.stdout


def rust_files(copy: Path) -> list[Path]:
    return sorted(path for path in copy.rglob("*.rs") if "target" not in path.parts)


def edit(copy: Path, kind: str, chooser: random.Random) -> str:
    files = rust_files(copy)
    target = chooser.choice(files)
    text = target.read_text(encoding="utf-8", errors="replace")
    if kind == "body":
        # Inside the first function body: a cast that needs a CAST comment.
        brace = text.find("{", text.find("fn "))
        if brace < 0:
            return edit(copy, "comment", chooser)
        text = text[: brace + 1] + "\n    let _cast_probe = 3u64 as u32;\n" + text[brace + 1 :]
    elif kind == "comment":
        text += "\n// edited by bench/cache_consistency.py\n"
    elif kind == "new module":
        (target.parent / "cache_probe.rs").write_text("pub unsafe fn probe() {}\npub fn g(x: u64) -> u8 { x as u8 }\n", encoding="utf-8")
        text = "pub mod cache_probe;\n" + text
    elif kind == "removed file":
        target.unlink()
        return f"{kind}: {target.relative_to(copy)}"
    elif kind == "use":
        text = "pub use std::mem::transmute as cache_probe_transmute;\n" + text
    elif kind == "kernel string":
        text += '\npub const CACHE_PROBE_SRC: &str = "extern \\"C\\" __global__ void cache_probe(float *x, int n) {}";\n'
    elif kind == "gitignore":
        ignore = copy / ".gitignore"
        relative = target.relative_to(copy).as_posix()
        with open(ignore, "a", encoding="utf-8") as stream:
            stream.write(f"\n/{relative}\n")
        return f"{kind}: ignored {relative}"
    target.write_text(text, encoding="utf-8")
    return f"{kind}: {target.relative_to(copy)}"


KINDS = ("body", "comment", "new module", "removed file", "use", "kernel string", "gitignore")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scratch", type=Path, default=ROOT.parent)
    args = parser.parse_args()
    chooser = random.Random(args.seed)
    failures = 0
    for directory in args.directories:
        with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
            copy = Path(scratch) / directory.name
            shutil.copytree(directory, copy, symlinks=True)
            first, _ = check(copy)
            print(f"{directory}: {len(rust_files(copy))} files, first run {first:.2f} s")
            for kind in KINDS:
                time.sleep(0.05)  # a later timestamp than the cache file's
                what = edit(copy, kind, chooser)
                cached_seconds, cached = check(copy)
                fresh_seconds, fresh = check(copy, "--no-cache")
                same = cached == fresh
                failures += not same
                print(f"  {what}: cached {cached_seconds:.2f} s, no cache {fresh_seconds:.2f} s, identical: {same}")
    print(f"{failures} round(s) where the cached output differed")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
