"""`safety-ls fix`, end to end: the real CLI as a subprocess on temporary copies.

Each template kind is inserted where placement accepts it; the fixed file
parses; the site is no longer reported except by placeholder-annotation;
fixing again changes nothing; line endings, BOM and permissions survive.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_runner import run_cli
from safety_ls.core.parsing import parse
from safety_ls.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
HAS_CARGO = shutil.which("cargo") is not None


cli = run_cli


def check_json(path: Path, *args: str, cwd: Path) -> list[dict]:
    done = cli("check", "--no-cache", "--format", "json", *args, path, cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)["diagnostics"]


def has_error(data: bytes) -> bool:
    return parse(data).root_node.has_error


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


# (name, rule, extra args, source, the lines that must appear right above `marker`'s line, marker)
KINDS = [
    (
        "safety-generic",
        "undocumented-unsafe-block",
        (),
        """
        pub fn other() {
            unsafe { core::hint::unreachable_unchecked() }
        }
        """,
        ["    // SAFETY: <why the operations in this block uphold their invariants>"],
        "    unsafe { core::hint",
    ),
    (
        "safety-device-allocation",
        "undocumented-unsafe-block",
        (),
        """
        pub fn alloc(dev: &Arc<CudaDevice>, n: usize) -> Result<CudaSlice<f32>, DriverError> {
            let buf = unsafe {
                let b = dev.alloc::<f32>(n)?;
                b
            };
            Ok(buf)
        }
        """,
        [
            "    // SAFETY: `dev.alloc::<f32>(n)` returns uninitialized device memory:",
            "    // - `n` is non-zero and fits in device memory: <reason>",
            "    // - every element is written before any read: <which kernel or copy initializes it>",
        ],
        "    let buf = unsafe {",
    ),
    (
        "safety-kernel-launch",
        "undocumented-unsafe-block",
        (),
        """
        pub fn launch(dev: &Dev, cfg: LaunchConfig, a: &CudaSlice<f32>, b: &mut CudaSlice<f32>, n: i32) -> R {
            let f = dev.get_func("module", "scale_kernel").unwrap();
            unsafe { f.launch(cfg, (a, b, n)) }
        }
        """,
        [
            "    // SAFETY: launching `scale_kernel` upholds its launch invariants:",
            "    // - parameters: the 3 arguments (a, b, n) match the kernel's parameters in number, type and",
            "    //   layout: <reason>",
        ],
        None,
    ),
    (
        "safety-ffi",
        "undocumented-unsafe-block",
        (),
        """
        pub fn create(h: &mut Handle) -> Status {
            unsafe { ffi::cublasCreate_v2(h) }
        }
        """,
        [
            "    // SAFETY: `ffi::cublasCreate_v2(h)` meets the contract the library documents (pointers, sizes,",
            "    // handles): <reason>",
        ],
        None,
    ),
    (
        "safety-mmap",
        "undocumented-unsafe-block",
        (),
        """
        pub fn map(file: &File) -> std::io::Result<Mmap> {
            unsafe { Mmap::map(file) }
        }
        """,
        ["    // SAFETY: nothing modifies or truncates the file while mapped: <why, e.g. read-only weights>"],
        "    unsafe { Mmap",
    ),
    (
        "safety-raw-pointer",
        "undocumented-unsafe-block",
        (),
        """
        pub fn read(p: *const u8) -> u8 {
            unsafe { *p }
        }
        """,
        ["    // SAFETY: `*p` needs `p` non-null, aligned and pointing to a live value: <reason>"],
        "    unsafe { *p }",
    ),
    (
        "safety-transmute",
        "undocumented-unsafe-block",
        (),
        """
        pub fn bits(x: u32) -> f32 {
            unsafe { std::mem::transmute::<u32, f32>(x) }
        }
        """,
        [
            "    // SAFETY: `std::mem::transmute::<u32, f32>(x)` needs `u32` and `f32` of one size, every `u32` a",
            "    // valid `f32`: <reason>",
        ],
        "    unsafe { std::mem::transmute",
    ),
    (
        "safety-impl",
        "undocumented-unsafe-impl",
        (),
        """
        pub struct Foo(u8);
        unsafe impl DeviceRepr for Foo {}
        """,
        ["// SAFETY: `Foo` upholds the contract of the unsafe trait `DeviceRepr`: <reason>"],
        "unsafe impl DeviceRepr",
    ),
    (
        "safety-send-sync",
        "undocumented-unsafe-impl",
        (),
        """
        pub struct Cache {
            map: std::collections::HashMap<String, u32>,
            len: usize,
        }
        unsafe impl Sync for Cache {}
        """,
        [
            "// SAFETY: `Cache` is Sync: <why sharing it between threads is sound>",
            "// - library guarantee: <which library version documents these handles as thread-safe, or none>",
            "// - external synchronization: <the lock callers hold, or not needed>",
            "// - `map: std::collections::HashMap<String, u32>`: <why sharing this field is sound>",
        ],
        "unsafe impl Sync",
    ),
    (
        "safety-doc",
        "missing-safety-doc",
        (),
        """
        pub unsafe fn read_it(p: *const u8) -> u8 {
            *p
        }
        """,
        ["/// # Safety", "///", "/// <one-sentence summary of why calling this is unsafe>"],
        None,
    ),
    (
        "promote",
        "missing-promote",
        (),
        """
        pub fn probs(x: &Tensor) -> Result<Tensor> {
            let y = x.to_dtype(DType::F32)?.exp()?;
            Ok(y)
        }
        """,
        ["    // PROMOTE: <reason, e.g. exp overflows F16/BF16 range; compute in F32>"],
        "    let y = x.to_dtype",
    ),
    (
        "contiguous",
        "missing-contiguous",
        (),
        """
        pub fn scores(q: &Tensor, k: &Tensor) -> Result<Tensor> {
            let kt = k.t()?.contiguous()?;
            q.matmul(&kt)
        }
        """,
        ["    // CONTIGUOUS: <reason, e.g. transpose leaves non-unit strides; matmul wants contiguous input>"],
        "    let kt = ",
    ),
    (
        "cast-known",
        "missing-cast",
        (),
        """
        pub fn narrow(v: &[u8]) -> u32 {
            let n = v.len() as u32;
            n
        }
        """,
        ["    // CAST: usize → u32, <reason>"],
        "    let n = v.len() as u32;",
    ),
    (
        "cast-unknown",
        "missing-cast",
        (),
        """
        pub fn widen(t: &Tensor) -> f32 {
            let n = t.dim(0) as f32;
            n
        }
        """,
        ["    // CAST: <from> → f32, <reason>"],
        "    let n = t.dim(0) as f32;",
    ),
    (
        "trait-object",
        "missing-trait-object",
        ("--profile", "grit"),
        """
        pub trait Shape {}
        pub fn count(v: &[Box<dyn Shape>]) -> usize {
            v.len()
        }
        """,
        ["// TRAIT_OBJECT: <why dynamic dispatch is needed here>"],
        "pub fn count",
    ),
]


def assert_fixed(path: Path, rule: str, args: tuple[str, ...], cwd: Path) -> None:
    """Parses cleanly; the rule is gone; only placeholder-annotation is left; a second fix changes nothing."""
    data = path.read_bytes()
    assert not has_error(data), data.decode()
    remaining = check_json(path, *args, cwd=cwd)
    assert [d for d in remaining if d["rule"] == rule] == []
    assert remaining and {d["rule"] for d in remaining} == {"placeholder-annotation"}, remaining
    again = cli("fix", *args, path, cwd=cwd)
    assert path.read_bytes() == data, "fixing twice inserted something"
    assert again.returncode == 1 and "Fixed 0 finding(s)" in again.stdout, again.stdout + again.stderr


@pytest.mark.parametrize("kind", KINDS, ids=[kind[0] for kind in KINDS])
def test_each_template_kind_is_inserted(tmp_path: Path, kind) -> None:
    name, rule, args, source, expected, marker = kind
    path = write(tmp_path, "lib.rs", source)
    before = [d["rule"] for d in check_json(path, *args, cwd=tmp_path)]
    assert rule in before
    done = cli("fix", *args, path, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr  # placeholders remain
    assert "template placeholders to fill in" in done.stdout
    lines = path.read_text().splitlines()
    if marker is None:
        text = "\n".join(lines)
        assert "\n".join(expected) in text, text
    else:
        index = next(i for i, line in enumerate(lines) if line.startswith(marker))
        assert lines[index - len(expected) : index] == expected or "\n".join(expected) in "\n".join(lines[:index]), (
            "\n".join(lines)
        )
        # The comment ends right above the site (or above its statement's attributes).
        above = lines[index - 1]
        assert above.lstrip().startswith("//"), "\n".join(lines)
    assert_fixed(path, rule, args, tmp_path)


PLACEMENTS = {
    "statement wrapped over lines": (
        """
        pub fn wrapped(p: *const u8, n: usize) -> u8 {
            let value = compute(
                n,
                unsafe { *p },
            );
            value
        }
        """,
        "    let value = compute(",
    ),
    "attributes above the statement": (
        """
        pub fn attrs(p: *const u8) -> u8 {
            #[allow(unused)]
            #[cfg(not(feature = "nope"))]
            let y = unsafe { *p };
            y
        }
        """,
        "    #[allow(unused)]",
    ),
    "macro_rules body": (
        """
        macro_rules! read {
            ($p:expr) => {
                unsafe { *$p }
            };
        }
        """,
        "        unsafe { *$p }",
    ),
    "match arm": (
        """
        pub fn arms(x: Option<*const u8>) -> u8 {
            match x {
                Some(p) => unsafe { *p },
                None => 0,
            }
        }
        """,
        "        Some(p) => unsafe",
    ),
    "chained call": (
        """
        pub fn chained(t: Tensor) -> Result<Tensor> {
            let out = t
                .narrow(0, 0, 2)?
                .to_dtype(DType::F32)?
                .sum(0)?;
            Ok(out)
        }
        """,
        "    let out = t",
    ),
    "impl with attributes": (
        """
        #[derive(Debug)]
        pub struct Handle(*mut u8);

        #[allow(dead_code)]
        #[cfg(not(feature = "nope"))]
        unsafe impl Send for Handle {}
        """,
        "#[allow(dead_code)]",
    ),
}


@pytest.mark.parametrize("case", sorted(PLACEMENTS))
def test_placement_variants(tmp_path: Path, case: str) -> None:
    source, anchor = PLACEMENTS[case]
    path = write(tmp_path, "lib.rs", source)
    rules = {d["rule"] for d in check_json(path, cwd=tmp_path)}
    done = cli("fix", path, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(anchor))
    first = index - 1  # the comment run right above the anchor, wrapped or not
    while lines[first - 1].strip().startswith("//") and "SAFETY:" not in lines[first] and "PROMOTE:" not in lines[first]:
        first -= 1
    tagged = lines[first].strip()
    assert tagged.startswith("// ") and ("SAFETY:" in tagged or "PROMOTE:" in tagged), "\n".join(lines)
    for line in lines[first:index]:
        assert len(line) - len(line.lstrip()) == len(anchor) - len(anchor.lstrip()), "\n".join(lines)
    for rule in rules - {"placeholder-annotation"}:
        assert_fixed(path, rule, (), tmp_path)


def test_doc_section_appended_after_existing_docs(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "lib.rs",
        """
        /// Reads one byte.
        ///
        /// Used by the loader.
        #[inline]
        pub unsafe fn read_it(p: *const u8) -> u8 {
            *p
        }
        """,
    )
    done = cli("fix", path, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = path.read_text().splitlines()
    assert lines[:6] == [
        "/// Reads one byte.",
        "///",
        "/// Used by the loader.",
        "///",
        "/// # Safety",
        "///",
    ]
    assert lines[-4:-2] == ["#[inline]", "pub unsafe fn read_it(p: *const u8) -> u8 {"]
    assert_fixed(path, "missing-safety-doc", (), tmp_path)


def test_structured_profile_appends_missing_sections(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "lib.rs",
        """
        /// Frees it.
        ///
        /// # Safety
        ///
        /// The pointer came from `alloc`.
        pub unsafe fn free_it(p: *mut u8) {
            libc::free(p.cast());
        }
        """,
    )
    args = ("--profile", "structured")
    assert {d["rule"] for d in check_json(path, *args, cwd=tmp_path)} == {"incomplete-safety-doc"}
    done = cli("fix", *args, path, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    text = path.read_text()
    assert "/// The pointer came from `alloc`.\n///\n/// ## Invariants\n/// - <invariant the code relies on>\n" in text
    for heading in ("## Caller Responsibilities", "## Justification", "## Library Guarantees"):
        assert f"/// {heading}\n" in text
    assert text.index("## Library Guarantees") < text.index("pub unsafe fn free_it")
    assert_fixed(path, "incomplete-safety-doc", args, tmp_path)


def test_sections_appended_before_a_blank_doc_line_keep_one_blank_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "lib.rs",
        """
        /// Other.
        ///
        /// # Safety
        ///
        /// ## Invariants
        /// - x is valid
        ///
        /// # Examples
        ///
        /// ```
        /// other();
        /// ```
        pub unsafe fn other(p: *mut u8) {
            *p = 1;
        }
        """,
    )
    cli("fix", "--profile", "structured", path, cwd=tmp_path)
    text = path.read_text()
    assert "///\n///\n" not in text
    assert "<why this requires unsafe, alternatives considered>\n///\n/// # Examples" in text


# Docs whose code block is still open where they end (rustdoc ends it with the docs).
OPEN_CODE_BLOCKS = {
    "backticks": ("/// ```", "```"),
    "tildes": ("/// ~~~", "~~~"),
    "a shorter fence inside a longer one": ("/// ````\n/// ```", "````"),
    "an info string on the closing line": ("/// ```rust\n/// let n = 1;\n/// ```rust", "```"),
}


@pytest.mark.parametrize("case", sorted(OPEN_CODE_BLOCKS))
def test_safety_section_after_docs_left_in_a_code_block_closes_the_block_first(tmp_path: Path, case: str) -> None:
    opening, closing = OPEN_CODE_BLOCKS[case]
    docs = f"/// Reads one byte.\n///\n{opening}\n/// let byte = unsafe {{ read_it(&1) }};\n"
    path = tmp_path / "lib.rs"
    path.write_text(docs + "pub unsafe fn read_it(p: *const u8) -> u8 {\n    *p\n}\n")
    cli("fix", path, cwd=tmp_path)
    # A `# Safety` heading inside the code block would be code to rustdoc and clippy alike.
    assert path.read_text().startswith(docs + f"/// {closing}\n///\n/// # Safety\n///\n")
    assert_fixed(path, "missing-safety-doc", (), tmp_path)


def test_sections_added_to_indented_docs_keep_their_indentation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "lib.rs",
        """
        ///     # Safety
        ///
        ///     `p` points to a live byte.
        pub unsafe fn read_it(p: *const u8) -> u8 {
            *p
        }
        """,
    )
    args = ("--profile", "structured")
    cli("fix", *args, path, cwd=tmp_path)
    # rustdoc removes the indentation all doc lines share: sections indented less than the
    # heading would leave it four spaces deep, an indented code block.
    assert "///     `p` points to a live byte.\n///\n///     ## Invariants\n///     - <" in path.read_text()
    assert_fixed(path, "incomplete-safety-doc", args, tmp_path)


def test_annotations_inserted_below_an_allow_comment_leave_its_line_silenced(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "lib.rs",
        """
        pub fn widen(p: *const u8, n: usize) -> u32 {
            // safety-ls: allow(missing-cast)
            let first = unsafe { *p } as u32;
            let size = n as u16; // safety-ls: allow(missing-cast)
            let second = unsafe { *p.add(1) } as u32;
            first + size as u32 + second // safety-ls: allow(missing-cast)
        }
        """,
    )
    cli("fix", path, cwd=tmp_path)
    text = path.read_text()
    assert text.count("// SAFETY:") == 2 and "// CAST:" not in text, text
    assert_fixed(path, "undocumented-unsafe-block", (), tmp_path)


NOT_FIXABLE = {
    "multi-line string": """
        pub fn s(p: *const u8) -> u8 {
            if check("multi
        line") { unsafe { *p } } else { 0 }
        }
        """,
    "block comment": """
        pub fn c(p: *const u8, flag: bool) -> u8 {
            if flag /* a note
            */ { unsafe { *p } } else { 0 }
        }
        """,
}


@pytest.mark.parametrize("case", sorted(NOT_FIXABLE))
def test_never_inserts_inside_a_string_or_comment(tmp_path: Path, case: str) -> None:
    path = write(tmp_path, "lib.rs", NOT_FIXABLE[case])
    original = path.read_bytes()
    diagnostics = check_json(path, cwd=tmp_path)
    assert [(d["rule"], d["fixable"]) for d in diagnostics] == [("undocumented-unsafe-block", False)]
    done = cli("fix", path, cwd=tmp_path)
    assert path.read_bytes() == original
    assert done.returncode == 1 and "Fixed 0 finding(s) in 0 file(s); 1 remaining." in done.stdout
    done = cli("fix", "--diff", path, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "") and "No fixes available" in done.stderr


def test_string_and_comment_lines_are_skipped_for_the_statement_above(tmp_path: Path) -> None:
    """The site's own line starts inside a string / comment; the statement's line does not."""
    path = write(
        tmp_path,
        "lib.rs",
        """
        pub fn s(p: *const u8) -> (&'static str, u8) {
            let t = ("line one
        unsafe { *p } is text", unsafe { *p });
            t
        }

        pub fn c(p: *const u8) -> u8 {
            let v = /* a comment
            */ unsafe { *p };
            v
        }
        """,
    )
    cli("fix", path, cwd=tmp_path)
    text = path.read_text()
    assert '"line one\nunsafe { *p } is text", unsafe { *p });' in text  # the string is untouched
    assert "/* a comment\n    */ unsafe { *p };" in text
    assert text.count("// SAFETY:") == 2
    assert_fixed(path, "undocumented-unsafe-block", (), tmp_path)


MIXED = """
pub fn f(p: *const u8) -> u8 {
    let n = 3usize as u32;
    unsafe { *p }
}

/// Reads it.
pub unsafe fn g(p: *const u8) -> u8 {
    *p
}
"""


def test_crlf_and_bom_and_permissions_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "lib.rs"
    path.write_bytes(b"\xef\xbb\xbf" + MIXED.lstrip("\n").replace("\n", "\r\n").encode())
    path.chmod(0o640)
    done = cli("fix", path, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.count(b"\r\n") > MIXED.count("\n") + 10
    assert b"// CAST: usize \xe2\x86\x92 u32, <reason>\r\n" in data and b"/// # Safety\r\n" in data
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not has_error(data[3:])
    assert [p.name for p in tmp_path.iterdir()] == ["lib.rs"], "no temporary file left behind"
    assert_fixed(path, "undocumented-unsafe-block", (), tmp_path)


def test_bom_with_lf_file(tmp_path: Path) -> None:
    path = tmp_path / "lib.rs"
    path.write_bytes(b"\xef\xbb\xbf" + MIXED.lstrip("\n").encode())
    cli("fix", path, cwd=tmp_path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfpub fn f") and b"\r" not in data


def test_diff_prints_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "lib.rs", MIXED)
    original = path.read_bytes()
    done = cli("fix", "--diff", path, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert path.read_bytes() == original
    assert done.stdout.startswith("--- a/lib.rs\n+++ b/lib.rs\n@@ ")
    added = [line for line in done.stdout.splitlines() if line.startswith("+") and not line.startswith("+++")]
    removed = [line for line in done.stdout.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert removed == [] and "+    // CAST: usize → u32, <reason>" in added and "+/// # Safety" in added
    # After fixing, there is no diff: exit 0.
    cli("fix", path, cwd=tmp_path)
    done = cli("fix", "--diff", path, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")


def test_check_lists_files_and_writes_nothing(tmp_path: Path) -> None:
    first = write(tmp_path, "src/a.rs", MIXED)
    write(tmp_path, "src/b.rs", "pub fn clean() -> u8 { 1 }\n")
    original = first.read_bytes()
    done = cli("fix", "--check", "src", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert first.read_bytes() == original
    assert done.stdout.splitlines() == ["would fix 3 finding(s) in src/a.rs"]
    cli("fix", "src", cwd=tmp_path)
    done = cli("fix", "--check", "src", cwd=tmp_path)
    assert done.returncode == 0 and "No fixes available" in done.stdout


def test_exit_codes(tmp_path: Path) -> None:
    clean = write(tmp_path, "clean.rs", "pub fn one() -> u8 { 1 }\n")
    assert cli("fix", clean, cwd=tmp_path).returncode == 0
    bad = tmp_path / "bad.rs"
    bad.write_bytes(b"pub fn f() { let s = \"\xff\xfe\"; }\n")
    done = cli("fix", bad, clean, cwd=tmp_path)
    assert done.returncode == 2 and "bad.rs" in done.stderr
    assert bad.read_bytes() == b"pub fn f() { let s = \"\xff\xfe\"; }\n"
    assert cli("fix", tmp_path / "missing.rs", cwd=tmp_path).returncode == 2


# ---------------------------------------------------------------------------
# The allocation wrapper, in a real crate that `cargo check` compiles.

CUDARC = """
//! Stand-in for `cudarc::driver`, shaped like examples/src/cudarc.rs.
use std::marker::PhantomData;
use std::sync::Arc;

pub mod sys {
    #[allow(non_camel_case_types)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum CUresult {
        CUDA_ERROR_INVALID_VALUE = 1,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverError(pub sys::CUresult);

/// Plain device types.
///
/// # Safety
///
/// Implementers have no padding and every bit pattern is valid.
pub unsafe trait DeviceRepr: Copy + 'static {}
// SAFETY: f32 and u32 are primitives: no padding, every bit pattern valid.
unsafe impl DeviceRepr for f32 {}
// SAFETY: as above.
unsafe impl DeviceRepr for u32 {}

pub struct CudaDevice;

#[derive(Debug)]
pub struct CudaSlice<T> {
    pub len: usize,
    marker: PhantomData<T>,
}

impl CudaDevice {
    pub fn new() -> Arc<Self> {
        Arc::new(CudaDevice)
    }

    /// Uninitialized device memory.
    ///
    /// # Safety
    ///
    /// The memory must be written before it is read.
    pub unsafe fn alloc<T: DeviceRepr>(self: &Arc<Self>, len: usize) -> Result<CudaSlice<T>, DriverError> {
        Ok(CudaSlice { len, marker: PhantomData })
    }
}
"""

USER = """
use std::sync::Arc;

use crate::cudarc::{{CudaDevice, CudaSlice, DriverError}};

pub fn {name}(dev: &Arc<CudaDevice>, n: usize) -> Result<CudaSlice<f32>, DriverError> {{
    let buffer = unsafe {{ dev.alloc::<f32>(n) }}?;
    Ok(buffer)
}}
"""


def make_crate(root: Path, *, wrapper_in: str | None = None, config: str | None = None, extra_mods: str = "") -> Path:
    write(root, "Cargo.toml", '[package]\nname = "allocs"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n')
    write(root, "src/lib.rs", "pub mod cudarc;\npub mod a;\npub mod b;\n" + extra_mods)
    write(root, "src/cudarc.rs", CUDARC)
    write(root, "src/a.rs", USER.format(name="first"))
    write(root, "src/b.rs", USER.format(name="second"))
    if config:
        write(root, "safety-ls.toml", config)
    return root


def cargo_check(crate: Path, tmp_path: Path) -> None:
    environment = {**os.environ, "CARGO_TARGET_DIR": str(tmp_path / "target")}
    done = subprocess.run(
        ["cargo", "check", "--offline", "--quiet"], cwd=crate, capture_output=True, text=True, env=environment, timeout=600
    )
    assert done.returncode == 0, done.stderr


def wrapper_definitions(crate: Path) -> dict[str, int]:
    return {
        path.relative_to(crate).as_posix(): path.read_text().count("fn alloc_device_buffer")
        for path in (crate / "src").rglob("*.rs")
        if "fn alloc_device_buffer" in path.read_text()
    }


@pytest.mark.skipif(not HAS_CARGO, reason="cargo is not installed")
def test_allocation_wrapper_added_once_per_crate(tmp_path: Path) -> None:
    crate = make_crate(tmp_path / "crate")
    cargo_check(crate, tmp_path)  # the crate compiles before the fix
    done = cli("fix", "src", cwd=crate)
    assert done.returncode == 0, done.stdout + done.stderr
    # In the crate root, which every module reaches; each user imports it.
    assert wrapper_definitions(crate) == {"src/lib.rs": 1}
    a, b = (crate / "src/a.rs").read_text(), (crate / "src/b.rs").read_text()
    for text in (a, b):
        assert "let buffer = alloc_device_buffer::<f32>(&dev, n)?;" in text
        assert "\n\nuse crate::alloc_device_buffer;\n" in text
    assert "unsafe { dev.alloc" not in b
    assert "SAFETY" not in b, "a block rewritten to the wrapper gets no SAFETY comment"
    cargo_check(crate, tmp_path)
    assert check_json(crate / "src", cwd=crate) == []
    # Fixing again adds nothing.
    snapshot = {p: p.read_bytes() for p in (crate / "src").rglob("*.rs")}
    done = cli("fix", "src", cwd=crate)
    assert done.returncode == 0
    assert {p: p.read_bytes() for p in (crate / "src").rglob("*.rs")} == snapshot


@pytest.mark.skipif(not HAS_CARGO, reason="cargo is not installed")
def test_existing_wrapper_is_reused(tmp_path: Path) -> None:
    crate = make_crate(tmp_path / "crate", extra_mods="pub mod gpu;\n")
    wrapper = subprocess.run(
        [sys.executable, "-c", "from safety_ls.config.templates import Templates; print('\\n'.join(Templates().render("
         "'alloc_wrapper.rs.j2', {'name': 'alloc_device_buffer', 'parameter': 'device', 'candle': None, 'cfg': [], "
         "'receiver': 'std::sync::Arc<crate::cudarc::CudaDevice>', 'driver': 'crate::cudarc', 'max_width': 100})))"],
        capture_output=True, text=True, check=True,
    ).stdout
    write(crate, "src/gpu.rs", "//! GPU helpers.\n" + wrapper)
    done = cli("fix", "src", cwd=crate)
    assert done.returncode == 0, done.stdout + done.stderr
    assert wrapper_definitions(crate) == {"src/gpu.rs": 1}
    for name in ("a", "b"):
        text = (crate / f"src/{name}.rs").read_text()
        assert "use crate::gpu::alloc_device_buffer;\n" in text and "alloc_device_buffer::<f32>(&dev, n)?" in text
    cargo_check(crate, tmp_path)


@pytest.mark.skipif(not HAS_CARGO, reason="cargo is not installed")
def test_alloc_wrapper_module_setting(tmp_path: Path) -> None:
    crate = make_crate(tmp_path / "crate", config='alloc-wrapper-module = "gpu"\n', extra_mods="pub mod gpu;\n")
    write(crate, "src/gpu.rs", "//! GPU helpers.\n")
    done = cli("fix", "src", cwd=crate)
    assert done.returncode == 0, done.stdout + done.stderr
    assert wrapper_definitions(crate) == {"src/gpu.rs": 1}
    assert (crate / "src/gpu.rs").read_text().startswith("//! GPU helpers.\n")
    for name in ("a", "b"):
        assert "use crate::gpu::alloc_device_buffer;\n" in (crate / f"src/{name}.rs").read_text()
    cargo_check(crate, tmp_path)
    assert cli("fix", "--diff", "src", cwd=crate).returncode == 0


@pytest.mark.skipif(not HAS_CARGO, reason="cargo is not installed")
def test_alloc_wrapper_diff_writes_nothing(tmp_path: Path) -> None:
    crate = make_crate(tmp_path / "crate", config='alloc-wrapper-module = "gpu"\n', extra_mods="pub mod gpu;\n")
    write(crate, "src/gpu.rs", "//! GPU helpers.\n")
    snapshot = {p: p.read_bytes() for p in crate.rglob("*") if p.is_file()}
    done = cli("fix", "--diff", "src", cwd=crate)
    assert done.returncode == 1
    assert "+++ b/src/gpu.rs" in done.stdout and "+pub(crate) fn alloc_device_buffer" in done.stdout
    assert {p: p.read_bytes() for p in crate.rglob("*") if p.is_file()} == snapshot


# ---------------------------------------------------------------------------
# The example crate.

NO_FIX = {rule.id for rule in ALL_RULES.values() if not rule.fixable}


@pytest.mark.skipif(not HAS_CARGO, reason="cargo is not installed")
def test_example_crate_fixed_still_compiles(tmp_path: Path) -> None:
    crate = tmp_path / "examples"
    shutil.copytree(EXAMPLES, crate, ignore=shutil.ignore_patterns("target", ".safety-ls-cache"))
    before = check_json(crate, cwd=crate)
    unfixable = {(d["path"], d["rule"], d["message"]) for d in before if not d["fixable"]}
    assert {rule for _, rule, _ in unfixable} <= NO_FIX
    assert any(d["fixable"] for d in before)
    done = cli("fix", ".", cwd=crate)
    assert done.returncode == 1, done.stdout + done.stderr
    cargo_check(crate, tmp_path)
    after = check_json(crate, cwd=crate)
    for diagnostic in after:
        assert not diagnostic["fixable"], diagnostic
        if diagnostic["rule"] != "placeholder-annotation":
            assert (diagnostic["path"], diagnostic["rule"], diagnostic["message"]) in unfixable, diagnostic
    assert sum(d["rule"] == "placeholder-annotation" for d in after) > sum(
        d["rule"] == "placeholder-annotation" for d in before
    )
    for path in (crate / "src").rglob("*.rs"):
        assert not has_error(path.read_bytes()), path
    assert sum(p.read_text().count("fn alloc_device_buffer") for p in (crate / "src").rglob("*.rs")) == 1
    snapshot = {p: p.read_bytes() for p in (crate / "src").rglob("*.rs")}
    cli("fix", ".", cwd=crate)
    assert {p: p.read_bytes() for p in (crate / "src").rglob("*.rs")} == snapshot


@pytest.mark.skipif(not HAS_CARGO, reason="cargo is not installed")
def test_wrapper_goes_to_the_crate_root_when_the_first_use_is_in_a_nested_private_module(tmp_path: Path) -> None:
    crate = tmp_path / "crate"
    write(crate, "Cargo.toml", '[package]\nname = "nested"\nversion = "0.1.0"\nedition = "2021"\n')
    write(crate, "src/lib.rs", "pub mod cudarc;\nmod p;\nmod q;\n")
    write(crate, "src/cudarc.rs", CUDARC)
    for name in ("p", "q"):
        write(crate, f"src/{name}.rs", "mod inner;\n")
        write(crate, f"src/{name}/inner.rs", USER.format(name="first"))
    done = cli("fix", "src", cwd=crate)
    assert done.returncode == 0, done.stdout + done.stderr
    assert wrapper_definitions(crate) == {"src/lib.rs": 1}
    for name in ("p", "q"):
        assert "use crate::alloc_device_buffer;\n" in (crate / f"src/{name}/inner.rs").read_text()
    cargo_check(crate, tmp_path)
