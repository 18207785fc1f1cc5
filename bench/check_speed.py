"""`safety-ls check` over real Rust, against a bare tree-sitter parse of the same files.

Prints wall seconds, lines per second, the ratio check / bare parse (the bare
parse runs in this process, one core; check runs as the CLI does, on every
core), `ast-grep scan` with one SAFETY rule over the same directories when
ast-grep is installed, and a second, cached run as a share of the first.

With `--changed-file REL` (a path inside the first directory), the pre-commit case too: the first
directory is copied, a cached run is made there, then the file is changed (a comment appended) and
checked alone from a cold process, each time; beside it the floor: a cold python that imports
tree-sitter and parses that file.

    python bench/check_speed.py [DIR ...]     (default: the Debian corpus, scripts/install-corpus.sh --dirs)
    python bench/check_speed.py /work/corpora/mistral.rs --changed-file mistralrs-core/src/ops.rs
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tree_sitter_rust
from lsp_latency import SG_RULE
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




def ast_grep_scan(directories: list[Path], scratch: Path) -> float | None:
    binary = shutil.which("ast-grep") or shutil.which("ast-grep", path=str(Path(sys.executable).parent))
    if binary is None:
        return None
    rule = scratch / "rule.yml"
    rule.write_text(SG_RULE)  # the rule the LSP latency bench gives ast-grep
    started = time.perf_counter()
    subprocess.run([binary, "scan", "--rule", str(rule), "--json=compact", *map(str, directories)], capture_output=True)
    return time.perf_counter() - started


def seconds(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command[:4]} failed: {done.stderr.decode()[-2000:]}")
    return time.perf_counter() - started


def pre_commit(directory: Path, changed: str, repeat: int) -> None:
    """One changed file checked alone in its (cached) workspace, against the floor."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / directory.name
        shutil.copytree(directory, copy, symlinks=True)
        seconds([sys.executable, "-m", "safety_ls", "check", "--exit-zero", "--format", "json", "."], copy)
        floor_code = (
            "import sys, tree_sitter, tree_sitter_rust; "
            "tree_sitter.Parser(tree_sitter.Language(tree_sitter_rust.language())).parse(open(sys.argv[1], 'rb').read())"
        )
        checks, floors = [], []
        for number in range(repeat):
            with open(copy / changed, "a") as stream:
                stream.write(f"// edit {number}\n")
            checks.append(seconds([sys.executable, "-m", "safety_ls", "check", "--exit-zero", changed], copy))
            floors.append(seconds([sys.executable, "-c", floor_code, changed], copy))
    check, floor = statistics.median(checks), statistics.median(floors)
    print(f"pre-commit, {changed} changed (medians of {repeat}): check {check * 1000:.0f} ms, "
          f"floor (python + tree-sitter + parse) {floor * 1000:.0f} ms, ratio {check / floor:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directories", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best is kept")
    parser.add_argument("--changed-file", help="also time the pre-commit case for this file of the first directory")
    args = parser.parse_args()
    # Bytecode as an installed package has it: with PYTHONDONTWRITEBYTECODE set, every cold start
    # would otherwise compile each module edited since its .pyc was written.
    compileall.compile_dir(str(ROOT / "server" / "safety_ls"), quiet=1)
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
        scans = [scan for _ in range(args.repeat) if (scan := ast_grep_scan(directories, work)) is not None]
        if scans:
            print(f"ast-grep scan, one rule: {min(scans):.2f} s; check / ast-grep: {check_seconds / min(scans):.2f}")
        first, _ = run_check(directories, work, use_cache=True)
        cached = [run_check(directories, work, use_cache=True) for _ in range(max(args.repeat, 3))]
        second, again = statistics.median(seconds for seconds, _ in cached), cached[0][1]
        shutil.rmtree(work / ".safety-ls-cache", ignore_errors=True)
        print(
            f"cache: first run {first:.2f} s, later runs {second:.2f} s (median of {len(cached)}; "
            f"{100 * second / first:.1f}% of the first, {100 * second / check_seconds:.1f}% of the best uncached), {again} findings"
        )
    if args.changed_file:
        pre_commit(directories[0], args.changed_file, args.repeat)


if __name__ == "__main__":
    main()
