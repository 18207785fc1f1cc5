"""What an unsafe site does, read from its text: the audit's categories and the template to offer."""

from __future__ import annotations

import enum
import re


class Category(str, enum.Enum):
    DEVICE_ALLOCATION = "device allocation"
    KERNEL_LAUNCH = "kernel launch"
    FFI_CALL = "FFI call"
    MMAP = "mmap"
    RAW_POINTER = "raw pointer dereference"
    TRANSMUTE = "transmute"
    SEND_SYNC = "Send/Sync"
    SIMD = "SIMD"
    OTHER = "other"


# Checked in order: the first that matches names the site (a launch also touches
# raw pointers, an allocation is also an FFI call underneath).
_SIGNATURES: tuple[tuple[Category, re.Pattern[str]], ...] = (
    (
        Category.KERNEL_LAUNCH,
        re.compile(r"\.launch\s*(?:::<[^>]*>)?\s*\(|launch_builder|\blaunch!|cuLaunchKernel|hip(?:Module)?LaunchKernel|\bffi::launch_"),
    ),
    (
        Category.DEVICE_ALLOCATION,
        re.compile(r"\.alloc(?:_zeros)?\s*::\s*<|\.alloc\s*\(|cudaMalloc|cuMemAlloc|hipMalloc|\.alloc_async\s*::"),
    ),
    (Category.TRANSMUTE, re.compile(r"\btransmute(?:_copy)?\b")),
    (Category.MMAP, re.compile(r"\bMmap(?:Options|Mut)?\b|\bmmap\b|\bmemmap2?::")),
    (
        Category.FFI_CALL,
        re.compile(r"\b(?:ffi|sys|libc|bindings|cuda_sys|cublas_sys|nccl_sys)::\w+\s*\(|\b(?:cu[A-Z]\w*|cublas\w*|cudnn\w*|nccl\w*|hip[A-Z]\w*)\s*\("),
    ),
    (
        # CPU vector intrinsics (x86 `_mm*`, Arm NEON `vld1q_f32`...), their types, `std::arch`, and
        # runtime feature checks: before raw pointers, since intrinsics take pointers.
        Category.SIMD,
        re.compile(
            r"\b_mm(?:256|512)?_\w+\s*\(|\b__m(?:128|256|512)[dhi]?\b|\b(?:core|std)::arch::"
            r"|\bv(?:ld|st)[1-4]q?_\w+\s*\(|\bv(?:add|sub|mul|fma|dup|get|set)q?_\w+\s*\(|\bis_\w+_feature_detected!"
        ),
    ),
    (
        Category.RAW_POINTER,
        re.compile(r"(?<![\w)\]])\*\s*[\w(]|from_raw_parts|\bptr::(?:read|write|copy)|\.(?:add|offset|sub)\s*\(|as_ptr\(\)|as_mut_ptr\(\)"),
    ),
)


def categorize_block(text: str) -> Category:
    """The category of an unsafe block (or unsafe fn body) from its text."""
    for category, signature in _SIGNATURES:
        if signature.search(text):
            return category
    return Category.OTHER


# The template for each annotation kind (file names in snippets/).
SAFETY_BLOCK_TEMPLATES = {
    "device allocation": "safety_device_allocation.j2",
    "kernel launch": "safety_kernel_launch.j2",
    "FFI call": "safety_ffi_call.j2",
    "mmap": "safety_mmap.j2",
    "raw pointer dereference": "safety_raw_pointer.j2",
    "transmute": "safety_transmute.j2",
    "SIMD": "safety_block.j2",
    "other": "safety_block.j2",
}
