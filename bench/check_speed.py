"""`safety-ls check` over real Rust, against a bare tree-sitter parse of the same files.

Prints wall seconds, lines per second, the ratio check / bare parse (the bare
parse runs in this process, one core; check runs as the CLI does, on every
core), and a second, cached run as a share of the first.

    python bench/check_speed.py [DIR ...]     (default: the Debian corpus, scripts/install-corpus.sh --dirs)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tree_sitter_rust
from safety_ls.engine.discovery import rust_files
from tree_sitter import Language, Parser

ROOT = Path(__file__).resolve().parent.parent


def corpus_dirs() -> list[Path]:
    out = subprocess.run([str(ROOT / "scripts/install-corpus.sh"), "--dirs"], capture_output=True, text=True, check=True)
    return [Path(line) for line in out.stdout.split()]


def bare_parse(files: list[Path]) -> float:
    parser = Parser(Language(tree_sitter_rust.language()))
    contents = [path.read_bytes() for path in files]
    started = time.perf_counter()
    for data in contents:
        parser.parse(data)
    return time.perf_counter() - started


def run_check(directories: list[Path], cache_root: Path, use_cache: bool) -> tuple[float, int]:
    command = [sys.executable, "-m", "safety_ls", "check", "--format", "json", "--exit-zero"]
    if not use_cache:
        command.append("--no-cache")
    command += [str(d) for d in directories]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cache_root, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"check failed: {done.stderr.decode()[-2000:]}")
    return elapsed, done.stdout.count(b'"rule"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directories", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best is kept")
    args = parser.parse_args()
    directories = [d.resolve() for d in (args.directories or corpus_dirs())]
    files = list(rust_files(directories))
    lines = sum(path.read_bytes().count(b"\n") for path in files)
    size = sum(path.stat().st_size for path in files)
    print(f"corpus: {len(directories)} directories, {len(files)} files, {lines:,} lines, {size / 1e6:.1f} MB")

    parse_seconds = min(bare_parse(files) for _ in range(args.repeat))
    print(f"bare tree-sitter parse (1 process): {parse_seconds:.2f} s, {lines / parse_seconds:,.0f} lines/s")

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        uncached = [run_check(directories, work, use_cache=False) for _ in range(args.repeat)]
        check_seconds, findings = min(uncached)
        print(f"safety-ls check, no cache: {check_seconds:.2f} s, {lines / check_seconds:,.0f} lines/s, {findings} findings")
        print(f"ratio check / bare parse: {check_seconds / parse_seconds:.2f}")
        first, _ = run_check(directories, work, use_cache=True)
        second, again = run_check(directories, work, use_cache=True)
        shutil.rmtree(work / ".safety-ls-cache", ignore_errors=True)
        print(f"cache: first run {first:.2f} s, second run {second:.2f} s ({100 * second / first:.1f}% of the first), {again} findings")


if __name__ == "__main__":
    main()
