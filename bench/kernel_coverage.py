"""How many kernel launches and `extern "C"` declarations safety-ls checks against their C/CUDA side.

For each corpus (a Cargo workspace), with the engine's own launch finder and
CUDA index: launch sites, those whose kernel name is known, found in the
workspace's CUDA sources (or, for FFI launchers, a C definition), and checked
(count, and types where known); `extern "C"` declarations, those with a
same-named C/C++/CUDA definition, and those checked (every definition compared;
a type either side does not know still counts as checked, it is never a
mismatch). Then the wall time of `safety-ls check` over the corpus with and
without the two rules that read the CUDA index (index built once per run), and
every mismatch found, for reading by hand.

    python bench/kernel_coverage.py CORPUS [CORPUS ...] [--exclude GLOB ...] [--no-timing]

`--exclude` skips Rust files whose path (relative to the corpus) matches, e.g.
`--exclude 'src/driver/sys/*'` for cudarc's generated bindings.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from safety_ls.core.parsing import build_units, parse
from safety_ls.facts.abi_types import c_abi, rust_abi
from safety_ls.facts.cuda_kernels import workspace_kernels
from safety_ls.facts.launch_checks import check_launch
from safety_ls.facts.launches import find_launches
from safety_ls.facts.rust_externs import extern_c_declarations
from safety_ls.rules.ffi_signature import disagreements

MISMATCH_RULES = "kernel-launch-mismatch,ffi-signature-mismatch"


def rust_files(corpus: Path, exclude: list[str]) -> list[Path]:
    found = []
    for directory, subdirectories, files in os.walk(corpus):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith(".") and d != "target")
        for name in sorted(files):
            path = Path(directory) / name
            relative = path.relative_to(corpus).as_posix()
            if name.endswith(".rs") and not any(fnmatch.fnmatch(relative, pattern) for pattern in exclude):
                found.append(path)
    return found


def coverage(corpus: Path, exclude: list[str]) -> tuple[Counter[str], list[str]]:
    counts: Counter[str] = Counter()
    mismatches: list[str] = []
    started = time.perf_counter()
    index = workspace_kernels(corpus)
    counts["index seconds"] = round(time.perf_counter() - started, 1)  # type: ignore[assignment]
    why: Counter[str] = Counter()
    for path in rust_files(corpus, exclude):
        data = path.read_bytes()
        if b"unsafe" not in data and b"extern" not in data:
            continue
        unit = build_units(parse(data), data, None)
        relative = path.relative_to(corpus)
        for site in find_launches(unit):
            check = check_launch(site, index, path=str(path))
            counts["launch sites"] += 1
            counts["kernel name known"] += site.kernel is not None
            counts["kernel found"] += bool(check.definitions)
            counts["checked"] += check.checked
            if check.why_unchecked:
                why[check.why_unchecked] += 1
            line = data.count(b"\n", 0, site.start) + 1
            mismatches.extend(f"{relative}:{line}: kernel-launch-mismatch {problem}" for problem in check.problems)
        for declaration in extern_c_declarations(unit):
            counts["extern \"C\" declarations"] += 1
            definitions = index.host_functions.get(declaration.name, [])
            counts["with a same-named definition"] += bool(definitions)
            counts["declarations checked"] += bool(definitions)
            counts["  of which every type decided on both sides"] += bool(definitions) and all(
                rust_abi(rust_type) is not None and c_abi(parameter.type) is not None
                for definition in definitions
                for (_, rust_type), parameter in zip(declaration.parameters, definition.parameters)
            )
            verdicts = [disagreements(declaration, d) for d in definitions]
            if verdicts and all(verdicts):
                line = data.count(b"\n", 0, declaration.start) + 1
                mismatches.append(f"{relative}:{line}: ffi-signature-mismatch `{declaration.name}`: {'; '.join(verdicts[0])}")
    for reason, number in why.most_common():
        counts[f"unchecked: {reason}"] = number
    return counts, mismatches


def check_seconds(corpus: Path, rules: list[str]) -> float:
    command = [sys.executable, "-m", "safety_ls", "check", str(corpus), "--no-cache", "--exit-zero", "--format", "json", *rules]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"check failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="+", type=Path)
    parser.add_argument("--exclude", action="append", default=[])
    parser.add_argument("--no-timing", action="store_true")
    arguments = parser.parse_args()
    for corpus in arguments.corpora:
        counts, mismatches = coverage(corpus.resolve(), arguments.exclude)
        print(f"== {corpus}")
        for key, value in counts.items():
            print(f"  {key}: {value}")
        if counts["launch sites"]:
            print(f"  share of launch sites checked: {counts['checked'] / counts['launch sites']:.0%}")
        if counts["with a same-named definition"]:
            print(f"  share of declarations with a definition checked: "
                  f"{counts['declarations checked'] / counts['with a same-named definition']:.0%}")
        if not arguments.no_timing:
            with_index = check_seconds(corpus, [])
            without = check_seconds(corpus, ["--ignore", MISMATCH_RULES])
            print(f"  check seconds: {with_index:.1f} with the CUDA index, {without:.1f} without ({MISMATCH_RULES} ignored)")
        print(f"  mismatches: {len(mismatches)}")
        for mismatch in mismatches:
            print(f"    {mismatch}")


if __name__ == "__main__":
    main()
