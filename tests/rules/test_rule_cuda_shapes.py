"""kernel-launch-mismatch and ffi-signature-mismatch on a crate written in the shapes of real GPU crates.

Macro-generated kernel families behind `kernel_name::<T>("uneg")` and
`format!("affine_{}", ..)`, a `macro_rules!` pushing builder arguments, CUDA
compiled at run time from a Rust string, `extern "C"` launchers defined through
a C macro, planted disagreements next to correct twins, and a `.cu` file that
does not preprocess (missing header, `#error`, unbalanced brace).
"""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_cli
from expectations import describe, expected
from safety_ls.core.settings import Settings
from safety_ls.engine.analyze import check_path

CRATE = Path(__file__).parent.parent / "fixtures" / "rules" / "cuda_shapes"
LIB = CRATE / "src" / "lib.rs"
RULES = {"kernel-launch-mismatch", "ffi-signature-mismatch"}


def test_findings_are_exactly_the_planted_disagreements():
    result = check_path(LIB, str(LIB), Settings(select=frozenset(RULES)))
    assert result.error is None
    found = {(d.line, d.rule) for d in result.diagnostics}
    marked = expected(LIB, RULES)
    assert found == marked, describe(LIB, marked - found, found - marked)


def test_a_cuda_file_that_does_not_preprocess_is_a_warning_not_a_crash():
    result = check_path(LIB, str(LIB), Settings(select=frozenset(RULES)))
    (warning,) = result.warnings
    assert warning.startswith("`launch_broken` has no C/CUDA definition in the index; a source naming it did not preprocess")
    assert "broken/missing.cu: header 'not_in_this_workspace.cuh' not found" in warning


def test_messages_name_the_definition_and_what_disagrees():
    result = check_path(LIB, str(LIB), Settings(select=frozenset(RULES)))
    messages = {d.line: d.message for d in result.diagnostics}
    assert messages[99] == (
        "`launch_norm` does not match its definition at kernels/unary.cu:22: "
        "parameter 3 `eps`: `f64` (64-bit float) declared, `float` (32-bit float) defined"
    )
    assert messages[52] == (
        "argument 2 `&inp` is `CudaSlice<f64>` (pointer to 64-bit float) but parameter `float* inp` "
        "is pointer to 32-bit float (kernels/unary.cu:3)"
    )
    assert messages[29].startswith("every `uneg_<dtype>` kernel (3) takes 3 parameter(s)")
    assert messages[87] == "`saxpy` takes 4 parameter(s) (src/lib.rs:75) but this launch passes 3"


def test_cli_json_reports_the_new_rule_at_the_declaration(tmp_path: Path):
    done = run_cli("check", "src/lib.rs", "--select", "ffi-signature-mismatch", "--format", "json", "--no-cache", cwd=CRATE)
    assert done.returncode == 1, done.stderr
    found = [(d["line"], d["column"], d["rule"]) for d in json.loads(done.stdout)["diagnostics"]]
    assert found == [(97, 16, "ffi-signature-mismatch"), (99, 16, "ffi-signature-mismatch"),
                     (102, 16, "ffi-signature-mismatch"), (110, 16, "ffi-signature-mismatch"),
                     (112, 16, "ffi-signature-mismatch")]


def test_ffi_signature_mismatch_is_in_the_default_profile():
    from safety_ls.rules import ALL_RULES

    rule = ALL_RULES["ffi-signature-mismatch"]
    assert "default" in rule.profiles and "ABI" in rule.explanation


def _launching_crate(root: Path) -> Path:
    (root / "Cargo.toml").write_text('[package]\nname = "s"\nversion = "0.1.0"\n')
    (root / "kernels").mkdir()
    (root / "kernels" / "k.cu").write_text('#define K(N) extern "C" __global__ void N(float* x, const size_t n) {}\nK(scale)\n')
    (root / "src").mkdir()
    lib = root / "src" / "lib.rs"
    lib.write_text(
        'fn f(dev: &Dev, x: &Buf, n: usize) {\n    let k = dev.get_func("m", "scale").unwrap();\n'
        "    unsafe { k.launch(cfg, (x, n)) }.unwrap();\n}\n"
    )
    return lib


def test_the_launch_template_names_the_kernels_parameters(tmp_path: Path):
    _launching_crate(tmp_path)
    done = run_cli("fix", "src/lib.rs", "--diff", cwd=tmp_path)
    # Wrapped at rustfmt's max_width (100), as every inserted comment is.
    assert (
        "+    // - parameters: the 2 arguments (x, n) match the kernel's 2 parameters (float* x, size_t n) in\n"
        "+    //   number, type and layout: <reason>\n"
    ) in done.stdout, done.stdout + done.stderr
