"""kernel-launch and kernel-launch-mismatch: launch sites, their SAFETY comments, and the workspace's kernels."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import run_driver
from expectations import describe, expected
from safety_ls.config.templates import Templates
from safety_ls.core.parsing import build_units, parse
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze, check_path
from safety_ls.facts import cuda_kernels
from safety_ls.facts.cuda_kernels import kernels_in_source, workspace_kernels
from safety_ls.facts.launches import find_launches
from safety_ls.fixes.apply import fix_source

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rules" / "kernel_launch"
CRATE = FIXTURES / "crate"
GPU_CRATE = Path(__file__).parent.parent / "gpu-crate"
RULES = {"kernel-launch", "kernel-launch-mismatch"}


def sites(code: str, patterns: tuple[str, ...] = ()):
    data = code.encode()
    unit = build_units(parse(data), data, re.compile(rb"launch|unsafe"))
    source = SourceText(data)
    return [(source.line_of(site.start) + 1, site) for site in find_launches(unit, patterns)]


# --- launch sites -------------------------------------------------------------------------


def test_cudarc_launch_resolves_kernel_arguments_and_launch_config():
    code = """
fn f(dev: &Dev, a: &Buf, out: &mut Buf) {
    let f = dev.get_func("module", "scale_f32").unwrap();
    let cfg = LaunchConfig { grid_dim: (8, 1, 1), block_dim: (128, 2, 1), shared_mem_bytes: 512 };
    unsafe { f.launch(cfg, (a, out, 7u32)) }.unwrap();
}
"""
    ((line, site),) = sites(code)
    assert line == 5 and site.form == "cudarc" and site.function == "f"
    assert (site.kernel, site.arguments) == ("scale_f32", ("a", "out", "7u32"))
    assert (site.block, site.block_threads, site.shared_memory_bytes) == (("128", "2", "1"), 256, 512)


def test_turbofish_launch_with_a_parameter_binding_and_for_num_elems():
    code = """
fn f(dev: &Dev) {
    let func = dev.load_function("softmax").unwrap();
    let params = (a, b,);
    unsafe { func.launch::<(u8, u8)>(LaunchConfig::for_num_elems(n), params) }.unwrap();
}
"""
    ((_, site),) = sites(code)
    assert (site.kernel, site.arguments, site.block_threads) == ("softmax", ("a", "b"), 1024)


def test_multi_line_builder_chain_is_sited_at_the_launch_method():
    code = """
fn f(stream: &Stream, dev: &Dev) {
    let k = dev.get_func("m", "rms_norm").unwrap();
    unsafe {
        stream
            .launch_builder(&k)
            .arg(&x)
            .arg(&mut y)
            .launch(cfg)
    }
    .unwrap();
}
"""
    ((line, site),) = sites(code)
    assert line == 9 and site.form == "builder"
    assert (site.kernel, site.arguments) == ("rms_norm", ("&x", "&mut y"))


def test_candle_builder_collects_arg_statements_and_builder_arg_macro():
    code = """
fn f(func: &CudaFunction) {
    let mut builder = func.builder();
    builder.arg(&src);
    candle::builder_arg!(builder, n, d);
    builder.arg(&dst);
    unsafe { builder.launch(cfg) }.w()?;
}
"""
    ((_, site),) = sites(code)
    assert site.arguments == ("&src", "n", "d", "&dst")


def test_each_launch_of_a_function_reads_what_was_bound_before_it():
    # One function, many launches: the body's bindings, lets, calls and macros are indexed once
    # and each launch must still see only what precedes it.
    code = """
const BLOCK: u32 = 64;
fn f(dev: &Dev, stream: &Stream, module: CUmodule, a: &Buf, b: &Buf) {
    let f = dev.get_func("m", "first").unwrap();
    unsafe { f.launch(cfg, (a,)) }.unwrap();
    let f = dev.get_func("m", "second").unwrap();
    let (g, _n) = (dev.get_func("m", "third").unwrap(), 1);
    unsafe { f.launch(cfg, (a, b)) }.unwrap();
    unsafe { g.launch(cfg, (b,)) }.unwrap();
    let mut builder = stream.launch_builder(&f);
    builder.arg(a);
    unsafe { builder.launch(cfg) }.unwrap();
    let mut builder = stream.launch_builder(&g);
    builder.arg(a);
    candle::builder_arg!(builder, b);
    unsafe { builder.launch(cfg) }.unwrap();
    let name = match op { Op::Sum => "fast_sum", Op::Max => "fast_max" };
    let h = dev.get_or_load_func(name, PTX).unwrap();
    unsafe { h.launch(cfg, (a,)) }.unwrap();
    let mut k = std::ptr::null_mut();
    unsafe {
        sys::cuLaunchKernel(k, 1, 1, 1, BLOCK, 1, 1, 0, stream, std::ptr::null_mut(), std::ptr::null_mut());
        cuModuleGetFunction(&mut k, module, c"late".as_ptr());
        sys::cuLaunchKernel(k, 1, 1, 1, BLOCK, 2, 1, 0, stream, std::ptr::null_mut(), std::ptr::null_mut());
    }
    let f = dev.get_func("m", "never_launched").unwrap();
}
"""
    found = [(line, site.kernel, site.arguments) for line, site in sites(code)]
    assert found == [
        (5, "first", ("a",)),
        (8, "second", ("a", "b")),
        (9, "third", ("b",)),
        (12, "second", ("a",)),
        (16, "third", ("a", "b")),
        (19, "fast_sum|fast_max", ("a",)),
        (22, None, ()),
        (24, "late", ()),
    ]
    assert [site.block_threads for _, site in sites(code)][-2:] == [64, 128]


def test_builder_arguments_pushed_in_a_loop_are_not_counted():
    code = """
fn f(stream: &Stream, k: &CudaFunction, xs: &[Buf]) {
    let mut builder = stream.launch_builder(k);
    for x in xs { builder.arg(x); }
    unsafe { builder.launch(cfg) }.unwrap();
}
"""
    ((_, site),) = sites(code)
    assert site.arguments is None


def test_cust_launch_macro_names_kernel_block_and_arguments():
    code = """
fn f(module: &Module, stream: &Stream) -> CudaResult<()> {
    unsafe {
        launch!(module.sum<<<(4, 1, 1), (32, 8, 1), 64, stream>>>(x.as_device_ptr(), y.len()))?;
    }
    Ok(())
}
"""
    ((_, site),) = sites(code)
    assert site.form == "cust" and site.kernel == "sum"
    assert (site.arguments, site.block_threads, site.shared_memory) == (("x.as_device_ptr()", "y.len()"), 256, "64")


def test_driver_api_launches_by_path_field_and_method():
    code = """
const THREADS: u32 = 256;
fn f(cu: &Driver, lib: &Lib, module: CUmodule) {
    let mut f = std::ptr::null_mut();
    let mut params = [&mut a as *mut _ as *mut c_void, &mut n as *mut _ as *mut c_void];
    unsafe {
        cuModuleGetFunction(&mut f, module, c"saxpy".as_ptr());
        sys::cuLaunchKernel(f, 4, 1, 1, THREADS, 1, 1, 0, stream, params.as_mut_ptr(), std::ptr::null_mut());
        (cu.cuLaunchKernel)(f, 4, 1, 1, 64, 2, 1, 0, stream, std::ptr::null_mut(), std::ptr::null_mut());
        lib.hipModuleLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, stream, params.as_mut_ptr(), std::ptr::null_mut());
    }
}
"""
    found = sites(code)
    assert [(line, s.form, s.kernel, s.arguments, s.block_threads) for line, s in found] == [
        (8, "driver", "saxpy", ("a", "n"), 256),
        (9, "driver", "saxpy", (), 128),
        (10, "hip", "saxpy", ("a", "n"), 32),
    ]


def test_kernel_of_a_struct_field_is_read_from_its_initializer():
    code = """
impl Q {
    fn new(device: &Dev) -> Self { Self { matmul: device.get_func("q4", "q4_matmul_f32").unwrap() } }
    fn forward(&self) { unsafe { self.matmul.launch(cfg, (a, b)) }.unwrap(); }
}
"""
    ((_, site),) = sites(code)
    assert site.kernel == "q4_matmul_f32"


def test_ffi_launchers_by_built_in_and_configured_pattern():
    code = """
fn f() {
    unsafe { ffi::launch_rms_norm(x, n, stream) };
    unsafe { kernels::run_gemm(a, b, c) };
    unsafe { kernels::other(a) };
}
"""
    assert [(line, s.kernel) for line, s in sites(code)] == [(3, "launch_rms_norm")]
    configured = sites(code, ("kernels::run_*",))
    assert [(line, s.form, s.kernel, s.arguments) for line, s in configured] == [
        (3, "ffi", "launch_rms_norm", ("x", "n", "stream")),
        (4, "ffi", "run_gemm", ("a", "b", "c")),
    ]


def test_launch_outside_unsafe_code_is_not_a_kernel_launch():
    code = """
fn serve(app: App, rocket: Rocket) {
    app.launch();
    rocket.launch(config, routes);
    let launch = 3;
}
"""
    assert sites(code) == []


def test_launch_in_an_unsafe_fn_body_counts_without_a_block():
    ((_, site),) = sites("pub unsafe fn go(f: &CudaFunction) { f.launch(cfg, (a,)).unwrap(); }\n")
    assert site.unsafe_block is None and site.arguments == ("a",)


# --- CUDA sources -----------------------------------------------------------------------------


def test_extern_c_kernels_with_launch_bounds_in_every_spelling():
    source = b"""
#define THREADS 128
extern "C" {
__global__ void a(void) {}
__global__ void __launch_bounds__(THREADS, 2) b(const float* x, int n) {}
}
template <typename T> __global__ void generic(T* x) {}
__global__ void cpp_only(int x) {}
extern "C" __launch_bounds__(64) __global__ void c(float *x /* , int y */) {}
// extern "C" __global__ void commented(int a) {}
extern "C" __global__ void d(Pair<int, float> p, int n);
"""
    found = {k.name: (len(k.parameters), k.max_threads, k.line) for k in kernels_in_source(source, "k.cu")}
    assert found == {"a": (0, None, 4), "b": (2, 128, 5), "c": (1, 64, 9), "d": (2, None, 11)}


def test_kernel_index_sees_a_new_cuda_file_once_the_rescan_interval_passed(tmp_path: Path, monkeypatch):
    (tmp_path / "a.cu").write_text('extern "C" __global__ void one(int x) {}\n')
    assert set(workspace_kernels(tmp_path).kernels) == {"one"}
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.cuh").write_text('extern "C" __global__ void two(int x, int y);\n')
    monkeypatch.setattr(cuda_kernels, "RESCAN_INTERVAL", 0.0)
    assert set(workspace_kernels(tmp_path).kernels) == {"one", "two"}


def test_kernel_index_is_not_walked_again_for_every_file_of_a_run(tmp_path: Path, monkeypatch):
    (tmp_path / "a.cu").write_text('extern "C" __global__ void one(int x) {}\n')
    workspace_kernels(tmp_path)
    walks = []
    monkeypatch.setattr(cuda_kernels, "_scan", lambda root: walks.append(root))
    for _ in range(50):
        assert set(workspace_kernels(tmp_path).kernels) == {"one"}
    assert walks == []


def test_kernel_index_functions_survive_the_process_in_the_store(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(cuda_kernels, "_disk", {})  # this test's store, not the next test's
    (tmp_path / "a.cu").write_text('extern "C" __global__ void one(const float* x, int n) {}\n')
    store = tmp_path / "store.json"
    cuda_kernels.keep_on_disk(store, "v1")
    workspace_kernels(tmp_path)
    code = (
        "import sys; from pathlib import Path; from safety_ls.facts import cuda_kernels as k;"
        "k.keep_on_disk(Path(sys.argv[1]), sys.argv[3]); k.preprocess = None;"  # preprocessing again would fail
        "print([(f.name, [p.type for p in f.parameters]) for f in k.workspace_kernels(Path(sys.argv[2])).kernels['one']])"
    )
    done = subprocess.run([sys.executable, "-c", code, str(store), str(tmp_path), "v1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[('one', ['float*', 'int'])]"
    # Another version of safety-ls does not read them: it preprocesses again.
    again = subprocess.run([sys.executable, "-c", code, str(store), str(tmp_path), "v2"], capture_output=True, text=True)
    assert again.returncode != 0 and "TypeError" in again.stderr


# --- the rules --------------------------------------------------------------------------------


def test_fixture_crate_findings_are_exactly_the_marked_lines():
    path = CRATE / "src" / "lib.rs"
    result = check_path(path, str(path), Settings(select=frozenset(RULES)))
    assert result.error is None and not result.warnings
    found = {(d.line, d.rule) for d in result.diagnostics}
    marked = expected(path, RULES)
    assert found == marked, describe(path, marked - found, found - marked)


def test_messages_name_the_missing_invariants_and_the_kernel_source():
    path = CRATE / "src" / "lib.rs"
    result = check_path(path, str(path), Settings(select=frozenset(RULES)))
    messages = {(d.line, d.rule): d.message for d in result.diagnostics}
    assert messages[(18, "kernel-launch")] == (
        "the SAFETY comment of this launch of `add` does not address: aliasing, launch dimensions"
    )
    assert "dynamic shared memory" in messages[(37, "kernel-launch")]
    assert messages[(68, "kernel-launch-mismatch")] == (
        "`fill` takes 2 parameter(s) (kernels/kernels.cuh:9) but this launch passes 1"
    )
    assert "over `scale`'s __launch_bounds__(128)" in messages[(51, "kernel-launch-mismatch")]


def test_undocumented_launch_block_is_left_to_the_block_rule_with_the_launch_template():
    path = CRATE / "src" / "lib.rs"
    result = check_path(path, str(path), Settings(select=frozenset({"undocumented-unsafe-block", *RULES})))
    at_23 = [d for d in result.diagnostics if d.line == 23]
    assert [d.rule for d in at_23] == ["undocumented-unsafe-block"]
    context = at_23[0].fix.context
    assert (context["kernel"], context["arguments"]) == ("fill", ["x", "n"])


def test_fix_completes_the_comment_and_leaves_placeholders_to_fill():
    code = """\
fn f(dev: &Dev, a: &Buf, out: &mut Buf, n: u32) {
    let f = dev.get_func("kernels", "add").unwrap();
    // SAFETY: the arguments match the kernel's signature and every buffer holds n elements.
    unsafe { f.launch(cfg, (a, out, n)) }.unwrap();
}
"""
    settings = Settings(select=frozenset({"kernel-launch", "placeholder-annotation"}))
    outcome = fix_source(code.encode(), "f.rs", settings, Templates())
    fixed = outcome.fixed.decode()
    assert fixed.splitlines()[2:7] == [
        "    // SAFETY: the arguments match the kernel's signature and every buffer holds n elements.",
        "    // - aliasing: no buffer passed as `&T` is also passed as `*mut T` and written: <reason>",
        # Wrapped to rustfmt's 100 columns, the continuation hanging under the item's text.
        "    // - launch dimensions: grid and block sizes stay within the kernel's launch bounds and index",
        "    //   range: <reason>",
        "    unsafe { f.launch(cfg, (a, out, n)) }.unwrap();",
    ]
    assert [d.rule for d in outcome.remaining] == ["placeholder-annotation"]
    assert outcome.applied[0].title == "Complete the launch's `// SAFETY:` comment"
    again = fix_source(outcome.fixed, "f.rs", settings, Templates())
    assert again.fixed == outcome.fixed


def test_completion_stays_under_its_comment_when_a_cast_comment_goes_to_the_same_line():
    code = """\
fn f(dev: &Dev, a: &Buf, out: &mut Buf, n: usize) {
    let f = dev.get_func("kernels", "add").unwrap();
    // SAFETY: the arguments match the kernel's signature and every buffer holds n elements.
    unsafe { f.launch(LaunchConfig::for_num_elems(n as u32), (a, out, n)) }.unwrap();
}
"""
    settings = Settings(select=frozenset({"kernel-launch", "missing-cast"}))
    outcome = fix_source(code.encode(), "f.rs", settings, Templates())
    lines = outcome.fixed.decode().splitlines()
    # Below the CAST comment, the invariant lines would continue it instead of the SAFETY comment.
    assert lines[3].startswith("    // - aliasing:") and lines[-3].startswith("    // CAST: usize → u32")
    assert fix_source(outcome.fixed, "f.rs", settings, Templates()).fixed == outcome.fixed


def test_fix_in_an_unsafe_fn_inserts_the_whole_launch_template():
    code = """\
pub unsafe fn go(f: &CudaFunction, x: &mut Buf) {
    f.launch(LaunchConfig::for_num_elems(8), (x, 8u32)).unwrap();
}
"""
    outcome = fix_source(code.encode(), "f.rs", Settings(select=frozenset({"kernel-launch"})), Templates())
    lines = outcome.fixed.decode().splitlines()
    assert lines[1] == "    // SAFETY: launching the kernel upholds its launch invariants:"
    assert "the 2 arguments (x, 8u32)" in lines[2]
    assert not [d for d in outcome.remaining if d.rule == "kernel-launch"]


def test_gpu_test_crate_launches_are_documented_and_match_their_kernels():
    path = GPU_CRATE / "src" / "main.rs"
    result = check_path(path, str(path), Settings())
    assert result.diagnostics == [], [f"{d.line} {d.rule} {d.message}" for d in result.diagnostics]
    data = path.read_bytes()
    launches = sites(data.decode())
    assert [(s.function, s.kernel, len(s.arguments or ()), s.block_threads) for _, s in launches] == [
        ("launch_vector_add", "vector_add", 4, 256),
        ("launch_scale_uninit", "scale", 4, 256),
        ("launch_block_sum_race", "block_sum", 3, 256),
        ("launch_vector_add_oob", "vector_add", 4, 256),
    ]


def test_changing_a_kernel_signature_rechecks_launches_through_the_cache(tmp_path: Path):
    crate = tmp_path / "crate"
    shutil.copytree(CRATE, crate)
    command = [sys.executable, "-m", "safety_ls", "check", "src/lib.rs", "--select", "kernel-launch-mismatch", "--format", "json"]
    first = subprocess.run(command, cwd=crate, capture_output=True, text=True, timeout=120)
    assert '"line": 87' in first.stdout  # driver_api passes 3 arguments to add's 4 parameters
    header = crate / "kernels" / "kernels.cuh"
    time.sleep(0.01)
    header.write_text(header.read_text().replace("float* out, unsigned int n);", "float* out);"))
    second = subprocess.run(command, cwd=crate, capture_output=True, text=True, timeout=120)
    assert '"line": 87' not in second.stdout and '"line": 18' in second.stdout


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rules_are_in_the_default_profile(rule: str):
    from safety_ls.rules import ALL_RULES

    assert "default" in ALL_RULES[rule].profiles


def test_analysis_without_a_crate_still_checks_comments():
    code = b"fn f() {\n    // SAFETY: arguments ok\n    unsafe { k.launch(cfg, (a,)) };\n}\n"
    result = analyze(SourceText(code), "f.rs", Settings(select=frozenset(RULES)))
    assert [(d.line, d.rule) for d in result.diagnostics] == [(3, "kernel-launch")]


def test_first_cached_check_of_a_fresh_checkout_keeps_the_cuda_functions_for_the_next(tmp_path: Path):
    """The store used to be written only once the cache directory existed: after the first run, a
    changed file meant preprocessing every CUDA source of the workspace again."""
    shutil.copytree(CRATE, tmp_path / "crate")
    done = subprocess.run(
        [sys.executable, "-m", "safety_ls", "check", "--format", "json", "--exit-zero", "crate"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    store = tmp_path / ".safety-ls-cache" / "cuda-functions.json"
    functions = json.loads(store.read_text(encoding="utf-8"))["functions"]
    assert any(found["name"] == "add" for found_in_source, _ in functions.values() for found in found_in_source)


ANALYSED_DRIVER = """
import json, sys
from safety_ls.engine import analyze
analysed = []
check_path = analyze.check_path
analyze.check_path = lambda path, display, settings: analysed.append(display) or check_path(path, display, settings)
from safety_ls.cli.main import main
main(sys.argv[1:])
print(json.dumps(sorted(analysed)), file=sys.stderr)
"""


def test_editing_rust_code_keeps_cached_launch_results_until_kernel_source_in_a_string_changes(tmp_path: Path):
    """Files with launches depend on every Rust file of the workspace, but only on the kernel source
    their string literals hold (NVRTC): an ordinary edit elsewhere leaves them cached."""
    shutil.copytree(CRATE, tmp_path / "crate")
    other = tmp_path / "crate" / "src" / "other.rs"
    other.write_text("pub fn f(x: u64) -> u64 {\n    x + 1\n}\n", encoding="utf-8")

    def analysed() -> list[str]:
        return run_driver(ANALYSED_DRIVER, "check", "--jobs", "1", "--exit-zero", "crate", cwd=tmp_path)

    assert "crate/src/lib.rs" in analysed()
    other.write_text("pub fn f(x: u64) -> u64 {\n    x + 2\n}\n", encoding="utf-8")
    assert analysed() == ["crate/src/other.rs"]
    other.write_text('pub const SRC: &str = "extern \\\\"C\\\\" __global__ void extra(int n) {}";\n', encoding="utf-8")
    assert analysed() == ["crate/src/lib.rs", "crate/src/other.rs"]
