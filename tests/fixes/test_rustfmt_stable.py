"""Inserted lines are what rustfmt would write: checked with the real `rustfmt` on the fixed files.

Each case is rustfmt-clean before the fix; after `safety-ls fix` it must still be (the comment at
the indentation rustfmt gives that position, wrapped to the crate's `max_width`), and a second fix
changes nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from cli_runner import run_cli

pytestmark = pytest.mark.skipif(shutil.which("rustfmt") is None, reason="rustfmt is not installed")

CASES = {
    "match arms": """
        pub fn width(kind: Kind, n: usize) -> u32 {
            match kind {
                Kind::Small => n as u32,
                Kind::Large => {
                    let wide = n as u64;
                    (wide / 2) as u32
                }
            }
        }
        """,
    "closure in a chained call": """
        pub fn scaled(values: &[usize]) -> Vec<f32> {
            values
                .iter()
                .map(|value| *value as f32 * 0.5)
                .filter(|value| *value > 1.0)
                .collect()
        }
        """,
    "after trailing comments": """
        pub fn wav(samples: &[f32], n_channels: u16) -> u32 {
            let len = 12u32; // header
            let len = len + samples.len() as u32 * 2 + 8; // data
            len * n_channels as u32
        }
        """,
    "after a wrapped trailing comment": """
        pub fn kind(dt: i64) -> u32 {
            let dt: i64 = dt.checked_add(0).unwrap_or(1); // 1 is float
                                                          // type by
                                                          // default
            match dt as i32 {
                1 => 0,
                _ => 1,
            }
        }
        """,
    "before a closing parenthesis": """
        pub fn runtime_and_layer(
            limits: LoraRuntimeConfiguration,
            registry: AdapterRegistryConfiguration,
        ) -> (Arc<DynamicLoraRuntime>, Arc<dyn QuantMethod>) {
            build(limits, registry)
        }
        """,
    "type alias continued on the next line": """
        pub type AgentToolApprovalCallback =
            Arc<dyn Fn(&AgentToolApprovalRequest) -> AgentToolApprovalDecision + Send + Sync>;
        """,
    "several arguments on one line of a macro call": """
        pub fn check(config: &Value, loader: &str) {
            assert_eq!(
                config["norm_topk_prob"], true,
                "{loader} wants the top-k probabilities normalised"
            );
        }
        """,
    "argument named by a block comment": """
        pub fn call(stride: &[usize], paged: bool) -> u32 {
            launch(
                /* q_batch_stride */ 0,
                /* k_batch_stride */ if paged { stride[0] as u32 } else { 0 },
            )
        }
        """,
    "long operation template": """
        pub fn view<'a>(pointer_to_the_first_element: *const f32, number_of_elements: usize) -> &'a [f32] {
            unsafe { std::slice::from_raw_parts(pointer_to_the_first_element, number_of_elements) }
        }
        """,
    "deep kernel launch": """
        pub fn go(f: &CudaFunction, cfg: LaunchConfig, a: &CudaSlice<f32>, b: &mut CudaSlice<f32>, n: u32) {
            if n > 0 {
                for _ in 0..2 {
                    unsafe { f.launch(cfg, (a, b, n, n, n)) }.unwrap();
                }
            }
        }
        """,
}


def _rustfmt_clean(path: Path) -> subprocess.CompletedProcess[str]:
    data = path.read_bytes()
    done = subprocess.run(
        ["rustfmt", "--edition", "2021", "--emit", "stdout"], input=data, capture_output=True, cwd=path.parent
    )
    return subprocess.CompletedProcess(done.args, int(done.stdout != data), done.stdout.decode(), done.stderr.decode())


def _formatted(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "src" / "lib.rs"
    path.parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "layout"\nversion = "0.1.0"\nedition = "2021"\n')
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    done = subprocess.run(["rustfmt", "--edition", "2021", str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_fixed_file_stays_rustfmt_clean(tmp_path: Path, case: str) -> None:
    path = _formatted(tmp_path, CASES[case])
    assert _rustfmt_clean(path).returncode == 0
    before = path.read_text()
    run_cli("fix", "--select", "ALL", "src", cwd=tmp_path)
    fixed = path.read_text()
    # Where a comment would be moved or dropped by rustfmt, none is inserted. (A cast in a
    # block-commented argument gets its CAST above the whole statement, where rustfmt keeps it.)
    refused = {
        "type alias continued on the next line",
        "several arguments on one line of a macro call",
    }
    assert (fixed != before) != (case in refused), fixed
    done = _rustfmt_clean(path)
    assert done.returncode == 0, f"rustfmt would rewrite:\n{fixed}\n---\n{done.stdout}"
    assert all(len(line) <= 100 for line in fixed.splitlines() if line.lstrip().startswith("//")), fixed
    run_cli("fix", "--select", "ALL", "src", cwd=tmp_path)
    assert path.read_text() == fixed


def test_comments_wrap_to_the_crates_max_width(tmp_path: Path) -> None:
    (tmp_path / "rustfmt.toml").write_text("max_width = 72\n")
    path = _formatted(tmp_path, CASES["long operation template"])
    run_cli("fix", "src", cwd=tmp_path)
    comment = [line for line in path.read_text().splitlines() if line.lstrip().startswith("//")]
    assert len(comment) > 1 and all(len(line) <= 72 for line in comment), comment
    assert comment[0].lstrip().startswith("// SAFETY: `std::slice::from_raw_parts(")
    assert _rustfmt_clean(path).returncode == 0
