#!/usr/bin/env python3
"""Does `safety-ls fix` hold on real code? Fix a copy of each corpus once, check it, fix it again.

    python bench/fix_holds.py /work/corpora/candle /work/corpora/mistral.rs [--select ALL]

For each corpus (copied to a temporary directory; the original is never
written) it prints, and exits 1 when any of them fails:
  - rule counts from `check --format json` before and after the fix: no rule
    may grow except placeholder-annotation, and no fixable finding may remain;
  - files that parse worse after the fix (more tree-sitter ERROR/MISSING nodes);
  - `$metavariables` lost (any `$name` written fewer times after the fix);
  - files that passed `rustfmt --check` before and fail after (when rustfmt is installed);
  - whether a second `fix` changes anything;
  - the wall time of the fix run.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from safety_ls.core.parsing import parse  # noqa: E402

_METAVARIABLE = re.compile(rb"\$[A-Za-z_]\w*")
_RUSTFMT_DIFF = re.compile(r"^Diff in (.+?)(?::\d+| at line \d+)?:$", re.M)
_RUSTFMT_ERROR = re.compile(r"^\s*--> (.+?):\d+:\d+$", re.M)


def safety_ls(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [sys.executable, "-m", "safety_ls", *args], cwd=cwd, capture_output=True, text=True, env=environment
    )


def check_counts(root: Path, select: list[str]) -> tuple[collections.Counter[str], int]:
    done = safety_ls("check", "--no-cache", "--format", "json", *select, ".", cwd=root)
    diagnostics = json.loads(done.stdout)["diagnostics"]
    return collections.Counter(d["rule"] for d in diagnostics), sum(d["fixable"] for d in diagnostics)


def rust_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*.rs") if "target" not in path.relative_to(root).parts)


def snapshot(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in rust_files(root)}


def error_count(data: bytes) -> int:
    tree = parse(data)
    if not tree.root_node.has_error:
        return 0
    count, stack = 0, [tree.root_node]
    while stack:
        node = stack.pop()
        count += node.is_error or node.is_missing
        if node.has_error:
            stack.extend(node.children)
    return count


def _lost_metavariable(before: bytes, after: bytes) -> bool:
    written = collections.Counter(_METAVARIABLE.findall(after))
    return any(written[name] < count for name, count in collections.Counter(_METAVARIABLE.findall(before)).items())


def rustfmt_failures(files: list[Path]) -> tuple[set[Path], set[Path]] | None:
    """(files rustfmt would change, files it cannot format), or None without rustfmt."""
    rustfmt = shutil.which("rustfmt")
    if rustfmt is None:
        return None
    changed: set[Path] = set()
    broken: set[Path] = set()
    for start in range(0, len(files), 64):
        batch = files[start : start + 64]
        done = subprocess.run(
            [rustfmt, "--check", "--edition", "2021", *map(str, batch)], capture_output=True, text=True
        )
        changed |= {Path(name).resolve() for name in _RUSTFMT_DIFF.findall(done.stdout)}
        broken |= {Path(name).resolve() for name in _RUSTFMT_ERROR.findall(done.stderr)}
    return changed, broken


def bench(corpus: Path, select: list[str]) -> bool:
    with tempfile.TemporaryDirectory(prefix="fix-holds-") as temporary:
        root = Path(temporary) / corpus.name
        shutil.copytree(corpus, root, ignore=shutil.ignore_patterns("target", ".git", ".safety-ls-cache"))
        files = [path.resolve() for path in rust_files(root)]
        before_counts, before_fixable = check_counts(root, select)
        before = snapshot(root)
        formatted_before = rustfmt_failures(files)
        started = time.perf_counter()
        safety_ls("fix", *select, ".", cwd=root)
        seconds = time.perf_counter() - started
        after = snapshot(root)
        after_counts, after_fixable = check_counts(root, select)
        safety_ls("fix", *select, ".", cwd=root)
        stable = snapshot(root) == after
        changed_files = [path for path in after if before.get(path) != after[path]]
        worse_parse = [path for path in changed_files if error_count(after[path]) > error_count(before.get(path, b""))]
        lost_metavariables = [path for path in changed_files if _lost_metavariable(before.get(path, b""), after[path])]
        grown = {
            rule: (before_counts[rule], after_counts[rule])
            for rule in sorted(set(before_counts) | set(after_counts))
            if rule != "placeholder-annotation" and after_counts[rule] > before_counts[rule]
        }
        formatted_after = rustfmt_failures(files)
        print(f"== {corpus} ({' '.join(select) or 'default profile'})")
        print(f"files: {len(files)}, changed by fix: {len(changed_files)}, fix wall time: {seconds:.1f} s")
        print(f"findings before: {sum(before_counts.values())} ({before_fixable} fixable); "
              f"after: {sum(after_counts.values())} ({after_fixable} fixable, "
              f"{after_counts['placeholder-annotation']} placeholder-annotation)")
        for rule in sorted(set(before_counts) | set(after_counts)):
            print(f"  {rule:<28} {before_counts[rule]:>6} -> {after_counts[rule]:>6}")
        print(f"rules that grew (placeholder-annotation aside): {grown or 'none'}")
        print(f"fixable findings left: {after_fixable}")
        print(f"files parsing worse: {len(worse_parse)} {[str(p.relative_to(root)) for p in worse_parse[:5]]}")
        print(f"files losing a $metavariable: {len(lost_metavariables)} {[str(p.relative_to(root)) for p in lost_metavariables[:5]]}")
        print(f"second fix changes nothing: {stable}")
        ok = not grown and not after_fixable and not worse_parse and not lost_metavariables and stable
        if formatted_before is not None and formatted_after is not None:
            clean_before = {path for path in files if path not in formatted_before[0] | formatted_before[1]}
            newly_failing = sorted(path for path in clean_before if path in formatted_after[0] | formatted_after[1])
            print(f"rustfmt --check: {len(clean_before)} files clean before, {len(newly_failing)} of them fail after "
                  f"{[str(p.relative_to(root.resolve())) for p in newly_failing[:8]]}")
            ok = ok and not newly_failing
        else:
            print("rustfmt --check: rustfmt is not installed; skipped")
        print(f"verdict: {'holds' if ok else 'FAILS'}")
        return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="+", type=Path, help="directories of Rust code (copied, never written)")
    parser.add_argument("--select", default=None, help="passed to check and fix, e.g. ALL")
    args = parser.parse_args()
    select = ["--select", args.select] if args.select else []
    results = [bench(corpus.resolve(), select) for corpus in args.corpora]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
