"""`safety-ls audit` over real Rust: wall seconds and what the inventory found.

Audits the Debian crate registry (/usr/share/cargo/registry, filled by
scripts/install-corpus.sh: the listed crates and their dependencies, each
directory with its own Cargo.toml becoming a crate) as the CLI does, on every
core, and prints the seconds, the lines per second and the counts of the report.

    python bench/audit_speed.py [DIR]     (default: /usr/share/cargo/registry)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REGISTRY = Path("/usr/share/cargo/registry")


def run_audit(directory: Path, report: Path, output_format: str) -> float:
    command = [sys.executable, "-m", "safety_ls", "audit", str(directory), "--format", output_format, "--output", str(report)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"audit failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", nargs="?", type=Path, default=REGISTRY)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best is kept")
    args = parser.parse_args()
    if not args.directory.is_dir():
        raise SystemExit(f"{args.directory}: not a directory (scripts/install-corpus.sh installs the corpus)")
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "audit.json"
        seconds = min(run_audit(args.directory, report_path, "json") for _ in range(args.repeat))
        report = json.loads(report_path.read_text(encoding="utf-8"))
        rendered = {kind: run_audit(args.directory, Path(scratch) / f"audit.{kind}", kind) for kind in ("markdown", "html")}
        sizes = {kind: (Path(scratch) / f"audit.{kind}").stat().st_size for kind in rendered}
    summary = report["summary"]
    sites = summary["sites"]
    print(f"corpus: {args.directory}, {summary['crates']} crates, {summary['files']} files, {summary['lines']:,} lines")
    print(f"safety-ls audit --format json: {seconds:.2f} s (best of {args.repeat}), {summary['lines'] / seconds:,.0f} lines/s")
    for kind, elapsed in rendered.items():
        print(f"safety-ls audit --format {kind}: {elapsed:.2f} s, {sizes[kind] / 1e3:,.0f} kB")
    print(
        f"unsafe blocks {summary['unsafe_blocks']['total']} ({summary['unsafe_blocks']['documented']} documented), "
        f"unsafe fns {summary['unsafe_fns']['total']} ({summary['unsafe_fns']['documented']}), "
        f"unsafe impls {summary['unsafe_impls']['total']} ({summary['unsafe_impls']['documented']})"
    )
    print(
        f"sites {sites['total']}: {sites['documented']} documented ({summary['documented_percent']}%), "
        f"{sites['undocumented']} undocumented ({sites['placeholder']} placeholders); "
        f"lines inside unsafe {summary['unsafe_lines']:,} ({summary['unsafe_percent']}%)"
    )
    for name, counts in summary["categories"].items():
        print(f"  {name:<24} {counts['total']:>6}  documented {counts['documented']:>5}")
    for tag, counts in summary["annotations"].items():
        print(f"  // {tag + ':':<22} {counts['sites']:>6}  annotated  {counts['annotated']:>5}")
    over = sum((crate["unsafe_percent"] or 0) > 5 for crate in report["crates"])
    print(f"crates over the 5% unsafe-lines gate: {over} of {summary['crates']}; files not audited: {len(report['errors'])}")


if __name__ == "__main__":
    main()
