"""Kernel names as real code builds them: a stem plus a dtype suffix.

candle writes `kernel_name::<T>("affine")` (`affine_f32`, `affine_bf16`, ..),
others `format!("affine_{}", dtype)`. The launch finder reports the stem; the
family is every kernel named `<stem>_<dtype>`. A name chosen among literals
(`match op { Sum => "fast_sum", Min => "fast_min" }`) is reported as
`fast_sum|fast_min`: every alternative's family; a `format!` with several
holes (`"cast_{}_{}"`) as the pattern `cast_*_*`. When the element type is
written out (`kernel_name::<f32>("affine")`) the exact member is meant.
"""

from __future__ import annotations

import fnmatch
from typing import TypeVar

Definition = TypeVar("Definition")

# Rust element types and the suffixes kernel libraries give them.
DTYPE_SUFFIXES: dict[str, str] = {
    "f32": "f32", "f64": "f64", "f16": "f16", "bf16": "bf16", "u8": "u8", "u16": "u16", "u32": "u32",
    "u64": "u64", "i8": "i8", "i16": "i16", "i32": "i32", "i64": "i64", "F8E4M3": "f8_e4m3", "f8e4m3": "f8_e4m3",
}
_SUFFIXES = tuple(sorted(set(DTYPE_SUFFIXES.values()), key=len, reverse=True))


def family(name: str, kernels: dict[str, list[Definition]]) -> list[Definition]:
    """The kernels `name` stands for: its exact definitions, else every `<name>_<dtype>`.

    A name chosen at run time among literals comes as `a|b|c`: the union of their families, or
    nothing when one of them is not found (the launch cannot then be checked).
    """
    if "|" in name:
        members = [family(alternative, kernels) for alternative in name.split("|")]
        return [] if not all(members) else [definition for found in members for definition in found]
    if "*" in name:  # `format!("cast_{}_{}", ..)`: every kernel the pattern matches
        return [definition for kernel, found in kernels.items() if fnmatch.fnmatchcase(kernel, name) for definition in found]
    if name in kernels:
        return list(kernels[name])
    members: list[Definition] = []
    for suffix in _SUFFIXES:
        members.extend(kernels.get(f"{name}_{suffix}", ()))
    return members
