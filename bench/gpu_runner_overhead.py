#!/usr/bin/env python3
"""What `safety-ls validate` costs beyond compute-sanitizer's own time. Run by hand on a GPU machine:

    python bench/gpu_runner_overhead.py WORKSPACE [--tool memcheck] [--repeat 3]

For each repeat it times (a) the sanitizer command exactly as the runner builds
it, run directly, and (b) `python -m safety_ls validate WORKSPACE --no-cache
--tool T --format json` end to end (interpreter start-up, parsing, mapping
and output included), and prints both and their difference (medians).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))

from safety_ls.config.loader import load_settings  # noqa: E402
from safety_ls.gpu.backends import build_invocation  # noqa: E402


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    started = time.perf_counter()
    completed = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, completed.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--tool", default="memcheck")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings(args.workspace)
    root = Path(settings.root or args.workspace).resolve()
    direct, through = [], []
    with tempfile.TemporaryDirectory() as scratch:
        invocation = build_invocation(settings.gpu, args.tool, root, Path(scratch))
        for _ in range(args.repeat):
            seconds, code = timed(list(invocation.argv), invocation.cwd, invocation.env)
            direct.append(seconds)
            print(f"compute-sanitizer directly: {seconds:.3f} s (exit {code})")
            argv = [sys.executable, "-m", "safety_ls", "validate", str(args.workspace), "--no-cache", "--tool", args.tool, "--format", "json"]
            seconds, code = timed(argv, Path.cwd())
            through.append(seconds)
            print(f"safety-ls validate:         {seconds:.3f} s (exit {code})")
    a, b = statistics.median(direct), statistics.median(through)
    print(f"median: sanitizer {a:.3f} s, through safety-ls {b:.3f} s, overhead {b - a:.3f} s ({100 * (b - a) / a:.1f}%)")


if __name__ == "__main__":
    main()
