"""How analysis time grows with the size of pathological shapes (issue 17: linear, not worse).

Each shape is generated at 500, 2,000 and 8,000 elements and checked by the real CLI
(`check --no-cache --format json`) in a subprocess; the seconds and the ratio to the previous
size are printed. Linear growth shows as a ratio near 4 per step; quadratic as 16.

    python bench/pathological_growth.py [--sizes 500,2000,8000] [--shapes plus-casts,...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable


def plus_casts(n: int) -> str:
    terms = " + ".join(f"(x{i % 7} as f64)" for i in range(n))
    return f"pub fn f(x0: u8, x1: u8, x2: u8, x3: u8, x4: u8, x5: u8, x6: u8) -> f64 {{\n    {terms}\n}}\n"


def contiguous_chain(n: int) -> str:
    chain = "".join("\n        .contiguous()?" for _ in range(n))
    return f"pub fn f(t: Tensor, w: Tensor) -> Result<Tensor> {{\n    let y = t{chain}\n        .matmul(&w)?;\n    Ok(y)\n}}\n"


def nested_unsafe(n: int) -> str:
    return "pub fn f(p: *const u8) -> u8 {\n" + "unsafe {\n" * n + "*p\n" + "}\n" * n + "}\n"


def nested_blocks_with_casts(n: int) -> str:
    return "pub fn f(x: u64) -> u32 {\n" + "{\n" * n + "x as u32\n" + "}\n" * n + "}\n"


def many_statements(n: int) -> str:
    body = "".join(f"    let v{i} = unsafe {{ *p.add({i}) }} as u32;\n" for i in range(n))
    return f"pub fn f(p: *const u8) {{\n{body}}}\n"


def to_dtype_lets(n: int) -> str:
    body = "".join(f"    let t{i} = x.to_dtype(DType::F32)?;\n" for i in range(n))
    return f"pub fn f(t: Tensor) -> Result<()> {{\n    let x = t.to_dtype(DType::F16)?;\n{body}    Ok(())\n}}\n"


def launches_in_one_function(n: int) -> str:
    body = "".join("    unsafe { func.clone().launch(cfg, (&a, &b, n as i32)) }?;\n" for _ in range(n))
    parameters = "func: CudaFunction, cfg: LaunchConfig, a: CudaSlice<f32>, b: CudaSlice<f32>, n: usize"
    return f"pub fn f({parameters}) -> Result<()> {{\n{body}    Ok(())\n}}\n"


def nested_closures(n: int) -> str:
    return "pub fn f(x: u64) -> u32 {\n    let g = " + "|y: u64| " * n + "x as u32;\n    0\n}\n"


def closures_each_with_a_cast(n: int) -> str:
    return "pub fn f(x: u64) {\n" + "let g = |y: u64| { let a = x as u32;\n" * n + "};\n" * n + "}\n"


def shadowing_lets(n: int) -> str:
    body = "    let x = x.to_dtype(DType::F32)?;\n" * n
    return f"pub fn f(t: Tensor) -> Result<Tensor> {{\n    let x = t.to_dtype(DType::F16)?;\n{body}    Ok(x)\n}}\n"


def else_if_chain(n: int) -> str:
    chain = " else ".join(f"if k == {i} {{ x as u32 }}" for i in range(n))
    return f"pub fn f(x: u64, k: usize) -> u32 {{\n    {chain} else {{ 0 }}\n}}\n"


def cast_chain(n: int) -> str:
    return "pub fn f(x: u64) -> u64 {\n    x" + " as u32 as u64" * (n // 2) + "\n}\n"


def dtype_chain(n: int) -> str:
    chain = ".to_dtype(DType::F32)?.to_dtype(DType::F16)?" * (n // 2)
    return f"pub fn f(x: Tensor) -> Result<Tensor> {{\n    Ok(x{chain})\n}}\n"


SHAPES: dict[str, Callable[[int], str]] = {
    "plus-casts": plus_casts,
    "contiguous-chain": contiguous_chain,
    "nested-unsafe": nested_unsafe,
    "nested-blocks": nested_blocks_with_casts,
    "statements": many_statements,
    "to-dtype-lets": to_dtype_lets,
    "launches": launches_in_one_function,
    "nested-closures": nested_closures,
    "closure-casts": closures_each_with_a_cast,
    "shadowing-lets": shadowing_lets,
    "else-if": else_if_chain,
    "cast-chain": cast_chain,
    "dtype-chain": dtype_chain,
}


def seconds_to_check(text: str, directory: Path, timeout: float) -> float | None:
    path = directory / "shape.rs"
    path.write_text(text)
    (directory / "safety-ls.toml").write_text('profile = "grit"\n')
    command = [sys.executable, "-m", "safety_ls", "check", "--no-cache", "--exit-zero", "--format", "json", str(path)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, cwd=directory)
    except subprocess.TimeoutExpired:
        return None
    try:
        json.loads(done.stdout)  # a crash must not pass for a fast run
    except ValueError:
        raise SystemExit(f"check failed ({done.returncode}): {done.stderr.decode()[-2000:]}") from None
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,2000,8000")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    baseline = None
    with tempfile.TemporaryDirectory() as scratch:
        # The median of several: one empty run's noise would swing the small sizes' ratios.
        baseline = statistics.median(seconds_to_check("fn main() {}\n", Path(scratch), args.timeout) or 0.0 for _ in range(5))
        print(f"start-up (an empty file, median of 5): {baseline:.2f} s")
        print(f"{'shape':<18}" + "".join(f"{size:>12}" for size in sizes) + "   growth per step (minus start-up)")
        for name in args.shapes.split(","):
            times = [seconds_to_check(SHAPES[name](size), Path(scratch), args.timeout) for size in sizes]
            cells = "".join(f"{t:>11.2f}s" if t is not None else f"{'timeout':>12}" for t in times)
            ratios = [
                f"x{(b - baseline) / max(a - baseline, 1e-3):.1f}"
                for a, b in zip(times, times[1:])
                if a is not None and b is not None
            ]
            print(f"{name:<18}{cells}   {' '.join(ratios)}", flush=True)


if __name__ == "__main__":
    main()
