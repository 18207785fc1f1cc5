"""The ABI class of a C/CUDA type and of a Rust type, to tell when the two cannot be the same.

A class is a kind (`int`, `float`, `half`, `pointer`, `void`) and a width in
bits; a pointer also carries what it points at. Signedness is not part of it
(`u32` for `int` is the same registers and bits), and a 64-bit integer
passes like a pointer (the driver API holds device pointers in `u64`). Half-precision types are
16-bit values passed like a `u16` (`__half` is a struct of one), so `u16`,
`half::f16`, `bf16` and `__half`/`__nv_bfloat16` all agree. Whatever is not in
the tables (a struct, a typedef we cannot see, a generic `T`) is None:
unknown, never a mismatch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Abi:
    kind: str  # int, float, half, pointer, void
    bits: int
    pointee: "Abi | None" = None  # for pointers, when known

    def __str__(self) -> str:
        if self.kind == "pointer":
            return f"pointer to {self.pointee}" if self.pointee is not None else "pointer"
        return "void" if self.kind == "void" else f"{self.bits}-bit {self.kind}"


def _int(bits: int) -> Abi:
    return Abi("int", bits)


_HANDLE = Abi("pointer", 64)  # an opaque handle: a pointer whose target is never compared
_C_SCALARS: dict[str, Abi] = {
    "void": Abi("void", 0),
    "bool": _int(8), "_Bool": _int(8), "char": _int(8), "signed char": _int(8), "unsigned char": _int(8),
    "int8_t": _int(8), "uint8_t": _int(8),
    "short": _int(16), "short int": _int(16), "unsigned short": _int(16), "unsigned short int": _int(16),
    "signed short": _int(16), "int16_t": _int(16), "uint16_t": _int(16),
    "int": _int(32), "signed": _int(32), "signed int": _int(32), "unsigned": _int(32), "unsigned int": _int(32),
    "int32_t": _int(32), "uint32_t": _int(32),
    "long": _int(64), "long int": _int(64), "unsigned long": _int(64), "unsigned long int": _int(64),
    "signed long": _int(64), "long long": _int(64), "long long int": _int(64), "unsigned long long": _int(64),
    "unsigned long long int": _int(64), "signed long long": _int(64), "int64_t": _int(64), "uint64_t": _int(64),
    "size_t": _int(64), "ssize_t": _int(64), "ptrdiff_t": _int(64), "intptr_t": _int(64), "uintptr_t": _int(64),
    "float": Abi("float", 32), "double": Abi("float", 64),
    "__half": Abi("half", 16), "half": Abi("half", 16), "__nv_bfloat16": Abi("half", 16), "__hip_bfloat16": Abi("half", 16),
    "nv_bfloat16": Abi("half", 16), "__nv_fp8_e4m3": _int(8), "__nv_fp8_e5m2": _int(8),
    "cudaStream_t": _HANDLE, "CUstream": _HANDLE, "hipStream_t": _HANDLE, "cudaEvent_t": _HANDLE, "CUevent": _HANDLE,
    "cublasHandle_t": _HANDLE, "cublasLtHandle_t": _HANDLE, "CUdeviceptr": _int(64),
}
_RUST_SCALARS: dict[str, Abi] = {
    "()": Abi("void", 0), "c_void": Abi("void", 0),
    "bool": _int(8), "i8": _int(8), "u8": _int(8), "c_char": _int(8), "c_schar": _int(8), "c_uchar": _int(8),
    "i16": _int(16), "u16": _int(16), "c_short": _int(16), "c_ushort": _int(16),
    "i32": _int(32), "u32": _int(32), "c_int": _int(32), "c_uint": _int(32),
    "i64": _int(64), "u64": _int(64), "usize": _int(64), "isize": _int(64), "c_long": _int(64), "c_ulong": _int(64),
    "c_longlong": _int(64), "c_ulonglong": _int(64), "size_t": _int(64), "CUdeviceptr": _int(64),
    "f32": Abi("float", 32), "c_float": Abi("float", 32), "f64": Abi("float", 64), "c_double": Abi("float", 64),
    "f16": Abi("half", 16), "bf16": Abi("half", 16),
    "cudaStream_t": _HANDLE, "CUstream": _HANDLE, "hipStream_t": _HANDLE, "cudaEvent_t": _HANDLE, "CUevent": _HANDLE,
    "cublasHandle_t": _HANDLE, "cublasLtHandle_t": _HANDLE,
}
_RUST_POINTER = re.compile(r"^(?:\*\s*(?:const|mut)\s+|&\s*(?:'\w+\s+)?(?:mut\s+)?)(?P<target>.+)$", re.S)
# Device buffers passed to a kernel become a pointer to their element type.
_DEVICE_BUFFER = re.compile(r"^(?:\w+::)*(?:CudaSlice|CudaView|CudaViewMut|DeviceBuffer|DeviceSlice|DevicePointer)\s*<\s*(?P<element>[^<>]+?)\s*>$")


# Types nested deeper than this (pointers to pointers..., options of options...) are not classed:
# no C signature goes near it, and following thousands of levels overflowed Python's stack.
_MAX_TYPE_DEPTH = 16


def c_abi(text: str, depth: int = 0) -> Abi | None:
    """The ABI class of a normalized C type (`float*`, `unsigned int`), or None when it is not known."""
    if depth > _MAX_TYPE_DEPTH:
        return None
    text = " ".join(text.split())
    if text.endswith("*"):
        return Abi("pointer", 64, c_abi(text[:-1].strip(), depth + 1))
    return _C_SCALARS.get(text)


def rust_abi(text: str, depth: int = 0) -> Abi | None:
    """The ABI class of a Rust type as written (`*const f32`, `std::ffi::c_int`, `CudaSlice<f64>`), or None."""
    if depth > _MAX_TYPE_DEPTH:
        return None
    text = " ".join(text.split())
    if pointer := _RUST_POINTER.match(text):
        target = pointer.group("target").strip()
        if buffer := _DEVICE_BUFFER.match(target):  # `&CudaSlice<f32>`: the launch passes the device pointer
            return Abi("pointer", 64, rust_abi(buffer.group("element"), depth + 1))
        if target.startswith("["):  # `&[T]` is two words: not a C type
            return None
        return Abi("pointer", 64, rust_abi(target, depth + 1))
    if buffer := _DEVICE_BUFFER.match(text):
        return Abi("pointer", 64, rust_abi(buffer.group("element"), depth + 1))
    if text.startswith("Option<") and (inner := rust_abi(text[7:-1], depth + 1)) is not None and inner.kind == "pointer":
        return inner  # `Option<&T>` / `Option<unsafe extern fn>`: a nullable pointer
    return _RUST_SCALARS.get(text.split("::")[-1])


_BYTES = ("int", 8)


def _register_class(abi: Abi) -> tuple[str, int]:
    return ("int", 16) if abi.kind == "half" else (abi.kind, abi.bits)


def incompatible(rust: Abi | None, c: Abi | None) -> bool:
    """True only when both are known and cannot be the same value in the same registers."""
    if rust is None or c is None:
        return False
    if rust.kind == "pointer" and c.kind == "pointer":
        if rust.pointee is None or c.pointee is None or "void" in (rust.pointee.kind, c.pointee.kind):
            return False
        if _BYTES in (_register_class(rust.pointee), _register_class(c.pointee)):
            return False  # a byte pointer is the untyped buffer of C (`char*`, `*const u8`)
        if rust.pointee.kind == "pointer" or c.pointee.kind == "pointer":
            return incompatible(rust.pointee, c.pointee)
        return _register_class(rust.pointee) != _register_class(c.pointee)
    if {rust.kind, c.kind} == {"pointer", "int"} and 64 in (rust.bits, c.bits) and min(rust.bits, c.bits) == 64:
        return False  # a device pointer held in a `u64` (`CUdeviceptr`) is passed exactly like a pointer
    return _register_class(rust) != _register_class(c)
