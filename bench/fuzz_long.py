"""The long fuzz run (tests/engine/test_fuzz.py is its CI-sized version): mutants of real corpus
files, each analysed and fixed twice; prints the count and every failure's kind.

    python bench/fuzz_long.py [--mutants 5000] [--seed 17] [DIR ...]   (default: /work/corpora, the Debian registry)
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))
from fuzz import run  # noqa: E402 - the shared mutator lives with the tests

DEFAULT_DIRECTORIES = ("/work/corpora", "/usr/share/cargo/registry")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directories", nargs="*", default=DEFAULT_DIRECTORIES)
    parser.add_argument("--mutants", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--max-seed-bytes", type=int, default=50_000)
    args = parser.parse_args()
    seeds = sorted(
        path
        for directory in args.directories
        if Path(directory).is_dir()
        for path in Path(directory).rglob("*.rs")
        if path.is_file() and not path.is_symlink() and path.stat().st_size < args.max_seed_bytes
    )
    if not seeds:
        raise SystemExit("no Rust files found in " + ", ".join(args.directories))
    started = time.perf_counter()
    count, failures = run(seeds, args.mutants, args.seed)
    print(f"{count} mutants of {len(seeds)} files in {time.perf_counter() - started:.0f} s: {len(failures)} failed")
    for problem, number in collections.Counter(f.problem for f in failures).most_common():
        print(f"  {number:>5}  {problem}")
    for failure in failures[:10]:
        print(f"\n{failure.seed_file}: {failure.problem}\n{failure.mutant[-400:]!r}")


if __name__ == "__main__":
    main()
