"""ABI classes of C and Rust types: a mismatch only where both are known and cannot be the same."""

from __future__ import annotations

import pytest
from safety_ls.facts.abi_types import c_abi, incompatible, rust_abi
from safety_ls.facts.argument_types import argument_type


@pytest.mark.parametrize(
    ("rust", "c"),
    [("f64", "float"), ("i32", "int64_t"), ("i32", "long long"), ("*const f32", "double*"), ("i32", "float*"),
     ("CudaSlice<f64>", "float*"), ("usize", "int"), ("f32", "__half"), ("*const *const f32", "double**")],
)
def test_these_cannot_be_the_same_abi_type(rust: str, c: str):
    assert incompatible(rust_abi(rust), c_abi(c))


@pytest.mark.parametrize(
    ("rust", "c"),
    [("u32", "int"), ("usize", "size_t"), ("std::ffi::c_int", "int"), ("*mut c_void", "float*"), ("*const u8", "float*"),
     ("u16", "__half"), ("half::f16", "__nv_bfloat16"), ("u64", "float*"), ("cudaStream_t", "cudaStream_t"),
     ("&mut CudaSlice<f32>", "float*"), ("Option<&f32>", "float*"), ("MyStruct", "int"), ("f32", "my_typedef_t"),
     ("T", "float"), ("&[f32]", "float*")],
)
def test_these_can_be_or_are_unknown(rust: str, c: str):
    assert not incompatible(rust_abi(rust), c_abi(c))


def test_argument_types_come_from_what_the_function_writes_before_the_launch():
    before = (
        "fn f(dev: &Dev, n: usize, k: i32) {\n let x = dev.alloc_zeros::<f64>(n)?;\n let y: CudaSlice<f32> = z;\n"
        " let w = stream.htod_copy(vec![0f64; n])?;\n let m = 3u32;\n"
    )
    found = {text: argument_type(text, before) for text in ["&x", "&mut y", "&w", "&n", "k as u32", "m", "7i64", "q"]}
    assert found == {"&x": "CudaSlice<f64>", "&mut y": "CudaSlice<f32>", "&w": "CudaSlice<f64>", "&n": "usize",
                     "k as u32": "u32", "m": "u32", "7i64": "i64", "q": None}


def test_types_nested_thousands_deep_end_in_an_unknown_pointee_not_a_stack_overflow() -> None:
    # Past 16 levels a pointee is not classed: no C signature nests so deep.
    rust, c = rust_abi("*mut " * 3000 + "u8"), c_abi("char " + "*" * 3000)
    levels = 0
    while rust is not None:
        levels, rust = levels + 1, rust.pointee
    assert levels == 17
    assert not incompatible(rust_abi("*mut " * 3000 + "f32"), c)
    assert rust_abi("Option<" * 3000 + "&u8" + ">" * 3000) is None
    assert rust_abi("*mut " * 3 + "f32") == c_abi("float ***")
