"""Function bodies emptied before preprocessing: what the CUDA index reads stays, lines stay put."""

from __future__ import annotations

from safety_ls.facts.c_bodies import without_bodies
from safety_ls.facts.cuda_kernels import kernels_in_source

KERNELS = """#include "common.cuh"
#define UNARY(T, NAME) \\
  extern "C" __global__ void NAME(const T *x, T *y, int n) { \\
    y[0] = x[0]; \\
  }

template <typename T> __device__ T twice(T v) {
  // a comment with a brace {
  const char *s = "}";
  if (v) {
    return v + v;
  }
#pragma unroll
  return v;
}

namespace detail {
struct Pair {
  int a;
  int b;
};
}

extern "C" {
__global__ void copy_f32(const float *x, float *y, int n) {
  y[threadIdx.x] = x[threadIdx.x];
}
}

UNARY(float, neg_f32)
"""


def test_bodies_are_emptied_and_every_line_break_kept() -> None:
    emptied = without_bodies(KERNELS)
    assert emptied is not None
    assert emptied.count("\n") == KERNELS.count("\n")
    assert "return v + v" not in emptied and "threadIdx" not in emptied
    assert "#pragma unroll\n;}" in emptied, "a directive kept in a body, the brace on a line of its own"


def test_declarations_directives_and_data_types_are_kept() -> None:
    emptied = without_bodies(KERNELS)
    assert emptied is not None
    for kept in ("#define UNARY(T, NAME)", "namespace detail {", "struct Pair {\n  int a;", 'extern "C" {',
                 "__global__ void copy_f32(const float *x, float *y, int n) {", "UNARY(float, neg_f32)"):
        assert kept in emptied


def test_kernels_and_their_lines_are_the_same_with_bodies_emptied() -> None:
    lines = KERNELS.split("\n")
    copy_line = next(number for number, line in enumerate(lines, 1) if "void copy_f32" in line)
    neg_line = lines.index("UNARY(float, neg_f32)") + 1
    found = {
        (kernel.name, kernel.line, len(kernel.parameters), kernel.defined)
        for kernel in kernels_in_source(KERNELS.encode(), "k.cu")
    }
    assert found == {("copy_f32", copy_line, 3, True), ("neg_f32", neg_line, 3, True)}


def test_a_macros_bodies_are_emptied_with_its_line_continuations_kept() -> None:
    emptied = without_bodies(KERNELS)
    assert emptied is not None
    define = emptied[emptied.index("#define UNARY") : emptied.index("template")]
    assert "y[0]" not in define and define.count("\\\n") == 3


def test_branches_that_open_the_same_braces_are_followed() -> None:
    source = "#if A\nvoid f(int a) {\n#else\nvoid f(int a, int b) {\n#endif\n  work();\n}\nvoid g() {}\n"
    emptied = without_bodies(source)
    assert emptied is not None and "work();" not in emptied and "void g() {;}" in emptied


def test_braces_that_cannot_be_matched_leave_the_source_whole() -> None:
    assert without_bodies("#if A\nvoid f() {\n#else\nvoid f();\n#endif\n}\n") is None
    assert without_bodies("void f() {\n  open();\n") is None
    assert without_bodies("}\nvoid f() {}\n") is None
