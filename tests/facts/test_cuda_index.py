"""The workspace's CUDA index: preprocessing, parameter lists, host functions, NVRTC strings, caching."""

from __future__ import annotations

import os
from pathlib import Path

from safety_ls.facts.c_functions import extern_c_functions
from safety_ls.facts.cuda_kernels import source_changed, workspace_kernels
from safety_ls.facts.cuda_preprocess import preprocess
from safety_ls.facts.nvrtc_sources import cuda_in_rust


def test_macro_generated_kernels_are_indexed_at_the_macro_invocation(tmp_path: Path):
    (tmp_path / "ops.cuh").write_text(
        '#define UNARY(T, NAME) extern "C" __global__ void NAME(const size_t n, const T* in, T* out) {}\n'
    )
    (tmp_path / "unary.cu").write_text('#include "ops.cuh"\n\nUNARY(float, neg_f32)\nUNARY(double, neg_f64)\n')
    kernels = workspace_kernels(tmp_path).kernels
    (f32,) = kernels["neg_f32"]
    assert [(p.type, p.name) for p in f32.parameters] == [("size_t", "n"), ("float*", "in"), ("float*", "out")]
    assert (Path(f32.path).name, f32.line) == ("unary.cu", 3)
    assert [p.type for p in kernels["neg_f64"][0].parameters] == ["size_t", "double*", "double*"]


def test_every_branch_of_an_architecture_condition_is_indexed():
    unit = preprocess(
        b'#if __CUDA_ARCH__ >= 800\nextern "C" __global__ void k_bf16(__nv_bfloat16* x) {}\n#else\n'
        b'extern "C" __global__ void k_fallback(float* x) {}\n#endif\n',
        "/w/k.cu",
    )
    assert {f.name for f in extern_c_functions(unit)} == {"k_bf16", "k_fallback"}


def test_templates_and_cpp_functions_are_not_linkable():
    unit = preprocess(
        b'template <typename T> __global__ void t(T* x) {}\n__global__ void mangled(int x) {}\n'
        b'extern "C" __global__ void __launch_bounds__(256) plain(const float* __restrict__ x, int n[]) {}\n',
        "/w/k.cu",
    )
    (plain,) = extern_c_functions(unit)
    assert (plain.name, plain.max_threads, [p.type for p in plain.parameters]) == ("plain", 256, ["float*", "int*"])


def test_host_functions_with_a_body_are_indexed_apart_from_kernels(tmp_path: Path):
    (tmp_path / "launch.cu").write_text(
        'extern "C" {\nint64_t launch(const float* x, cudaStream_t s) { return 0; }\nvoid declared_only(int x);\n}\n'
    )
    index = workspace_kernels(tmp_path)
    (launch,) = index.host_functions["launch"]
    assert (launch.return_type, launch.kernel, [p.type for p in launch.parameters]) == ("int64_t", False, ["float*", "cudaStream_t"])
    assert "declared_only" not in index.host_functions and not index.kernels


def test_cuda_in_a_rust_string_maps_to_the_rust_lines():
    data = b'fn main() {}\nconst SRC: &str = "\nextern \\"C\\" __global__ void sin_kernel(float *out, const float *inp, int n) {}\n";\n'
    (unit,) = cuda_in_rust(data, "/w/src/main.rs")
    (kernel,) = extern_c_functions(unit)
    assert (kernel.name, len(kernel.parameters), kernel.path, kernel.line) == ("sin_kernel", 3, "/w/src/main.rs", 3)


def test_sources_that_do_not_preprocess_give_warnings_and_what_could_be_read(tmp_path: Path):
    (tmp_path / "bad.cu").write_text(
        '#include "gone.cuh"\n#error "sm_90 only"\nextern "C" __global__ void ok(int x) {}\n'
        'extern "C" __global__ void unbalanced(int x) {\n  if (x) {\n'
    )
    index = workspace_kernels(tmp_path)
    assert "ok" in index.kernels
    assert any("gone.cuh" in warning for warning in index.warnings)
    assert any("#error" in warning for warning in index.warnings)


def test_a_changed_source_is_seen_even_when_its_size_and_time_stay(tmp_path: Path):
    cu = tmp_path / "k.cu"
    cu.write_text('extern "C" __global__ void k(int a, int b) {}\n')
    stamp = cu.stat().st_mtime_ns
    assert len(workspace_kernels(tmp_path).kernels["k"][0].parameters) == 2
    cu.write_text('extern "C" __global__ void k(int a, intb  ) {}\n')  # same size
    os.utime(cu, ns=(stamp, stamp))
    assert len(workspace_kernels(tmp_path).kernels["k"][0].parameters) == 2  # the stamp cannot tell
    source_changed(cu)  # what the language server calls on a file event
    assert [p.name for p in workspace_kernels(tmp_path).kernels["k"][0].parameters] == ["a", None]


def test_an_index_prepared_on_several_processes_is_the_one_built_in_one(tmp_path: Path, monkeypatch):
    from safety_ls.facts import cuda_kernels

    (tmp_path / "Cargo.toml").write_text('[package]\nname = "k"\nversion = "0.1.0"\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text("pub fn f() {}\n")
    (tmp_path / "ops.cuh").write_text('#define UNARY(T, NAME) extern "C" __global__ void NAME(const T* in, T* out) { out[0] = in[0]; }\n')
    for number in range(4):
        (tmp_path / f"k{number}.cu").write_text(f'#include "ops.cuh"\nUNARY(float, neg{number}_f32)\nUNARY(int, neg{number}_i32)\n')
    built = workspace_kernels(tmp_path)
    for cache in ("_indexes", "_by_content", "_last_scan"):
        monkeypatch.setattr(cuda_kernels, cache, {})
    in_this_process: list[object] = []
    found_in = cuda_kernels._found_in
    monkeypatch.setattr(cuda_kernels, "_found_in", lambda unit: in_this_process.append(unit) or found_in(unit))
    cuda_kernels.prepare_indexes([tmp_path / "src" / "lib.rs"], jobs=2)
    assert in_this_process == [], "the sources were preprocessed by the workers"
    assert workspace_kernels(tmp_path) == built


def test_the_token_copies_of_macro_expansion_take_the_fast_path_and_keep_every_attribute():
    """pcpp copies every token a macro expands to; the copy hook must sit on the class of the
    tokens pcpp really makes (it loads its own ply), and copy what the generic copy would."""
    import copy

    from pcpp import Preprocessor

    preprocess(b'#define K(n) extern "C" __global__ void n(float *x)\nK(a);\n', "k.cu")
    preprocessor = Preprocessor()
    token = next(iter(preprocessor.tokenize("x")))
    assert "__copy__" in vars(type(token))
    copied = copy.copy(token)
    assert copied is not token and vars(copied) == vars(token) and type(copied) is type(token)
