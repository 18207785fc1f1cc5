"""Bad input gets a clear message, never a traceback, and the other files are still checked."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceError, SourceText
from safety_ls.engine.analyze import analyze

GOOD = "fn g() {\n    let t = unsafe { f() };\n}\n"


def cli(*args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, timeout=timeout)


def check_json(*args: str | Path, cwd: Path) -> tuple[int, list[dict], str]:
    done = cli("check", "--format", "json", "--no-cache", *args, cwd=cwd)
    assert "Traceback" not in done.stderr, done.stderr
    assert "internal error" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)["diagnostics"], done.stderr


def good_file_findings(diagnostics: list[dict]) -> list[tuple[str, str, int]]:
    return [(d["path"], d["rule"], d["line"]) for d in diagnostics if d["path"] == "src/good.rs"]


# --- unreadable content ---------------------------------------------------------------------


def test_invalid_utf8_file_is_reported_and_others_still_checked(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "good.rs").write_text(GOOD, encoding="utf-8")
    (tmp_path / "src" / "bad.rs").write_bytes(b"fn a() {}\n// caf\xe9 au lait\nfn b() {}\n")
    returncode, diagnostics, stderr = check_json("src", cwd=tmp_path)
    assert returncode == 2
    assert "src/bad.rs" in stderr
    assert "invalid UTF-8" in stderr and "line 2" in stderr
    assert good_file_findings(diagnostics) == [("src/good.rs", "undocumented-unsafe-block", 2)]
    assert all(d["path"] != "src/bad.rs" for d in diagnostics)


def test_invalid_utf8_on_stdin_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "safety_ls", "check", "-", "--stdin-filename", "src/x.rs"],
        cwd=tmp_path,
        input=b"fn a() {}\n\xff\xfe\n",
        capture_output=True,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 2
    assert "src/x.rs" in stderr and "invalid UTF-8" in stderr
    assert "Traceback" not in stderr


def _huge_rust_file(size: int) -> str:
    parts: list[str] = []
    total = 0
    index = 0
    while total < size:
        part = (
            f"pub fn f{index}(x: u64) -> u32 {{\n"
            f"    let y = unsafe {{ g(x) }};\n"
            f"    let z = (y + {index}) as u32;\n"
            + "    let pad = 0; // filler to make the file large without more sites\n" * 8
            + "    z\n}\n"
        )
        parts.append(part)
        total += len(part)
        index += 1
    return "".join(parts)


def test_file_over_max_file_size_is_reported_and_others_still_checked_then_analysed_when_raised(
    tmp_path: Path,
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "good.rs").write_text(GOOD, encoding="utf-8")
    (tmp_path / "src" / "huge.rs").write_text(_huge_rust_file(10 * 1024 * 1024), encoding="utf-8")

    returncode, diagnostics, stderr = check_json("src", cwd=tmp_path)
    assert returncode == 2
    assert "src/huge.rs" in stderr
    assert "max-file-size" in stderr and "10.0 MiB" in stderr
    assert good_file_findings(diagnostics) == [("src/good.rs", "undocumented-unsafe-block", 2)]

    (tmp_path / "safety-ls.toml").write_text("max-file-size = 16_000_000\n", encoding="utf-8")
    returncode, diagnostics, stderr = check_json("src", cwd=tmp_path)
    assert returncode == 1, stderr
    huge = [d for d in diagnostics if d["path"] == "src/huge.rs"]
    assert {d["rule"] for d in huge} == {"undocumented-unsafe-block", "missing-cast"}
    assert huge[-1]["line"] > 100_000
    assert good_file_findings(diagnostics) == [("src/good.rs", "undocumented-unsafe-block", 2)]


# --- deep nesting and half-typed code -------------------------------------------------------

DEPTH = 5000

NESTED = {
    "parentheses.rs": "fn f() -> u32 { let x = " + "(" * DEPTH + "1u64 as u32" + ")" * DEPTH + "; x }\n",
    "blocks.rs": "fn f() " + "{ " * DEPTH + "unsafe { g() }" + " }" * DEPTH + "\n",
    "closures.rs": "fn f() { let c = " + "|| " * DEPTH + "unsafe { g() }; }\n",
    "arrays.rs": "fn f() { let a = " + "[" * DEPTH + "1u8 as i8" + "]" * DEPTH + "; }\n",
    "calls.rs": "fn f() { " + "h(" * DEPTH + "unsafe { g() }" + ")" * DEPTH + "; }\n",
    "unclosed.rs": "fn f() { " + "{ (" * DEPTH + "unsafe { g() }\n",
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_deep_nesting_is_analysed_without_traceback(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(NESTED[name], encoding="utf-8")
    returncode, diagnostics, _ = check_json(name, cwd=tmp_path)
    assert returncode in (0, 1)
    if name != "unclosed.rs":
        assert len(diagnostics) == 1
        assert diagnostics[0]["rule"] in ("undocumented-unsafe-block", "missing-cast")


# Long chains are trees as deep as they are long: each used to overflow Python's stack in one
# rule (an internal error, its finding lost), so each must still give the finding it holds.
LONG_CHAINS = {
    "sum_cast.rs": ("fn f(a: u64) -> u32 { (" + " + ".join(["a"] * DEPTH) + ") as u32 }\n", "missing-cast"),
    "range_bound.rs": ("fn f(a: usize) { for i in 0..(" + "+".join(["a"] * DEPTH) + ") { let y = i as u32; } }\n", "missing-cast"),
    "reshape_chain.rs": (
        "fn f(x: Tensor, s: usize) -> Result<Tensor> {\n    let y = x.to_dtype(DType::F16)?"
        + ".reshape(s)?" * DEPTH
        + ".to_dtype(DType::F32)?;\n    Ok(y)\n}\n",
        "missing-promote",
    ),
    "kernel_name_matches.rs": (
        "fn f(dev: &Dev, k: usize) {\n    let name = "
        + 'match k { 0 => "a", _ => ' * 2000
        + '"b"'
        + " }" * 2000
        + ";\n    let h = dev.get_or_load_func(name, PTX).unwrap();\n    unsafe { h.launch(cfg, (a,)) }.unwrap();\n}\n",
        "undocumented-unsafe-block",
    ),
}


LONG_CHAINS["send_sync_run.rs"] = (
    "struct T(*mut u8);\n// SAFETY: T's pointer is only read under the owner's lock\n"
    + "".join(f"unsafe impl {'Send' if i % 2 == 0 else 'Sync'} for T {{}}\n" for i in range(3000)),
    "unjustified-send-sync",
)


@pytest.mark.parametrize("name", sorted(LONG_CHAINS))
def test_a_long_chain_gives_its_finding_without_an_internal_error(tmp_path: Path, name: str) -> None:
    text, rule = LONG_CHAINS[name]
    (tmp_path / name).write_text(text, encoding="utf-8")
    _, diagnostics, _ = check_json(name, "--select", rule, cwd=tmp_path)
    assert {d["rule"] for d in diagnostics} == {rule}
    assert len(diagnostics) == (3000 if name == "send_sync_run.rs" else 1)


def test_a_use_tree_nested_thousands_deep_leaves_the_crate_index_working(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "deep"\nversion = "0.1.0"\n')
    (tmp_path / "src").mkdir()
    nested = "pub use a::" + "{b::" * 3000 + "c" + "}" * 3000 + ";\n"
    (tmp_path / "src" / "lib.rs").write_text(nested + "pub fn f(x: u64) -> u32 {\n    x as u32\n}\n")
    _, diagnostics, _ = check_json("src/lib.rs", cwd=tmp_path)
    assert [(d["rule"], d["line"]) for d in diagnostics] == [("missing-cast", 3)]


def test_nested_unsafe_blocks_are_each_reported(tmp_path: Path) -> None:
    # Kept at 200 levels: window_floor in placement.py walks `Node.parent`, which tree-sitter
    # computes from the root, so each level costs O(depth^2) and 5,000 levels take minutes.
    depth = 200
    (tmp_path / "a.rs").write_text("fn f() { " + "unsafe { " * depth + "g()" + " }" * depth + " }\n", encoding="utf-8")
    returncode, diagnostics, _ = check_json("a.rs", cwd=tmp_path)
    assert returncode == 1
    assert len(diagnostics) == depth


def test_five_thousand_nested_unsafe_blocks_finish(tmp_path: Path) -> None:
    (tmp_path / "a.rs").write_text("fn f() { " + "unsafe { " * DEPTH + "g()" + " }" * DEPTH + " }\n", encoding="utf-8")
    returncode, diagnostics, _ = check_json("a.rs", cwd=tmp_path)
    assert returncode == 1 and len(diagnostics) == DEPTH


HALF_TYPED = {
    "unclosed_braces.rs": "fn f() {\n    if x {\n        let y = unsafe { g() };\n",
    "let_unsafe_at_eof.rs": "fn f() {\n    let x = unsafe {",
    # A file whose only `as` has no type triggers no rule, so it is not even parsed (and has no
    # warning); these keep a complete cast next to the broken one.
    "cast_without_type.rs": "fn f(a: u64) -> u32 {\n    let b = a as ;\n    let c = a as u32;\n    c\n}\n",
    "cast_at_eof.rs": "fn f(a: u64) -> u16 {\n    let c = a as u16;\n    a as",
    "unsafe_impl_half.rs": "unsafe impl Send for\n",
    "unterminated_string.rs": 'fn f() {\n    let s = "abc;\n    unsafe { g() }\n}\n',
    "unterminated_comment.rs": "fn f() {\n    /* SAFETY: never closed\n    unsafe { g() }\n}\n",
    "stray_closers.rs": "}}}\n)))\nfn f() { unsafe { g() } }\n]]]\n",
    "dtype_half.rs": "fn f(t: Tensor) {\n    let y = t.to_dtype(DType::F32\n",
    "macro_half.rs": "macro_rules! m {\n    ($x:expr) => { unsafe { $x }\n",
}

SYNTAX_WARNING = "syntax error near line"


@pytest.mark.parametrize("name", sorted(HALF_TYPED))
def test_half_typed_code_gives_a_syntax_warning_not_a_traceback(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(HALF_TYPED[name], encoding="utf-8")
    returncode, _, stderr = check_json(name, cwd=tmp_path)
    assert returncode in (0, 1)
    assert SYNTAX_WARNING in stderr
    assert name in stderr


def test_a_region_analysis_gives_its_findings_without_the_files_warnings() -> None:
    """The language server re-analyses one function per keystroke and shows findings only: the
    file's warnings (a syntax error anywhere, unknown rules in allow comments) are left out."""
    text = "fn f(a: u64) -> u32 {\n    a as u32\n}\n\n// safety-ls: allow(no-such-rule)\nfn g() {\n    let b = (;\n}\n"
    source = SourceText.from_text(text)
    settings = Settings(select=frozenset({"missing-cast"}))
    whole = analyze(source, "x.rs", settings)
    alone = analyze(source, "x.rs", settings, region=(0, text.index("\n}\n") + 2))
    assert len(whole.warnings) == 2 and whole.excerpts
    assert alone.warnings == [] and alone.excerpts == {}
    assert alone.diagnostics == whole.diagnostics


def test_complete_sites_next_to_half_typed_code_are_still_reported(tmp_path: Path) -> None:
    (tmp_path / "a.rs").write_text(HALF_TYPED["cast_without_type.rs"], encoding="utf-8")
    (tmp_path / "b.rs").write_text(HALF_TYPED["unclosed_braces.rs"], encoding="utf-8")
    returncode, diagnostics, _ = check_json("a.rs", "b.rs", cwd=tmp_path)
    assert returncode == 1
    assert [(d["path"], d["rule"], d["line"]) for d in diagnostics] == [
        ("a.rs", "missing-cast", 3),
        ("b.rs", "undocumented-unsafe-block", 3),
    ]


REAL_FILE = '''\
//! Device buffers.
use std::sync::Arc;

/// A buffer on the device.
pub struct Buffer {
    ptr: *mut f32,
    len: usize,
}

// SAFETY: the pointer is owned and only touched through &mut self.
unsafe impl Send for Buffer {}

impl Buffer {
    /// Reads one element.
    ///
    /// # Safety
    /// `index` must be below `len`.
    pub unsafe fn get_unchecked(&self, index: usize) -> f32 {
        // SAFETY: the caller keeps `index` in bounds.
        unsafe { *self.ptr.add(index) }
    }

    pub fn len_u32(&self) -> u32 {
        // CAST: usize → u32, buffers are smaller than 4 GiB
        self.len as u32
    }
}

fn promote(xs: &[Tensor]) -> Vec<Tensor> {
    let s = "→ arrows ←";
    xs.iter()
        .map(|t| t.to_dtype(DType::F32).unwrap())
        .collect()
}

fn mm(a: &Tensor, b: &Tensor) -> Tensor {
    let a = a.contiguous().unwrap();
    let n = a.dims()[0] as i64;
    let raw = unsafe { alloc::<f32>(n as usize) };
    a.matmul(b).unwrap()
}

macro_rules! launch {
    ($f:expr) => {
        unsafe { $f.launch(cfg, (a, b)) }
    };
}
'''


def test_truncations_of_a_real_file_never_crash(tmp_path: Path) -> None:
    data = REAL_FILE.encode("utf-8")
    rng = random.Random(1234)
    cuts = sorted(set(rng.sample(range(1, len(data)), 120)) | {1, len(data) - 1})
    directory = tmp_path / "cuts"
    directory.mkdir()
    written = 0
    for cut in cuts:
        piece = data[:cut]
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            continue  # a cut inside `→` is not valid UTF-8; that case has its own test
        (directory / f"cut_{cut:05}.rs").write_bytes(piece)
        written += 1
    (directory / "whole.rs").write_bytes(data)
    done = cli("check", "cuts", "--format", "json", "--no-cache", "--select", "ALL", "--jobs", "1", cwd=tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    assert "internal error" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr
    assert written > 100
    assert done.stderr.count(SYNTAX_WARNING) > written // 2
    paths = {d["path"] for d in json.loads(done.stdout)["diagnostics"]}
    assert "cuts/whole.rs" in paths


# --- nothing to check -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", "// just a comment\n/* and a block */\n//! inner doc\n", "\n\n\n", "\ufeff"], ids=["empty", "comments", "blank", "bom-only"]
)
def test_files_without_code_are_clean(tmp_path: Path, text: str) -> None:
    (tmp_path / "a.rs").write_text(text, encoding="utf-8")
    done = cli("check", "a.rs", "--no-cache", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "All checks passed (1 file checked)" in done.stdout
    assert done.stderr == ""


def test_directory_without_rust_files_exits_0(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("unsafe { }\n", encoding="utf-8")
    done = cli("check", "docs", "--no-cache", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "0 files checked" in done.stdout
    assert "Traceback" not in done.stderr


# --- property: the engine never raises -------------------------------------------------------

ALL_SETTINGS = Settings(select=frozenset({"ALL"}))

TOKENS = [
    "unsafe", "{", "}", "(", ")", "[", "]", "<", ">", "fn", "pub", "impl", "trait", "struct", "for",
    "Send", "Sync", "as", "u32", "i64", "usize", "f32", "let", "=", ";", ",", ".", "::", "->", "|", "||",
    "&", "*", "!", "#", "'a", "x", "y", "self", "dyn", "mod", "match", "=>", "if", "else", "return",
    "macro_rules!", "$x:expr", "$", "1", "0xff", "1.5e3", "\"", "\"s→\"", "'c'", "r#\"raw\"#", "b\"\\xff\"",
    "→", "\n", "\r\n", "\t", " ", "// SAFETY: ok", "// SAFETY:", "/* SAFETY: x */", "/*", "*/",
    "// CAST: u64 → u32, fits", "// CAST:", "// PROMOTE: accuracy", "// CONTIGUOUS: layout",
    "// TODO", "<reason>", "/// # Safety", "/// ## Invariants", "//!", "#[allow(clippy::undocumented_unsafe_blocks)]",
    "#[expect(clippy::missing_safety_doc)]", "// safety-ls: allow(missing-cast)", "// safety-ls: allow-file(ALL)",
    ".to_dtype(DType::F32)", ".contiguous()", ".matmul(", ".alloc::<f32>(n)", ".launch(cfg, (a,))",
    "launch!", "cuLaunchKernel(", "RefCell<u8>", "Mutex<u8>", "v[0]", ".as_str()", "unsafe impl Sync for S {}",
]

token_soup = st.lists(st.sampled_from(TOKENS), max_size=80).map(" ".join)


def _analyse(raw: bytes) -> None:
    try:
        source = SourceText(raw)
    except SourceError:
        return  # invalid UTF-8: reported as an error, by design
    result = analyze(source, "x.rs", ALL_SETTINGS)
    assert result.error is None
    assert not [w for w in result.warnings if "internal error" in w], result.warnings
    for diagnostic in result.diagnostics:
        assert 1 <= diagnostic.line <= source.line_count
        assert diagnostic.column >= 1
        assert (diagnostic.end_line, diagnostic.end_column) >= (diagnostic.line, diagnostic.column)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_analyze_never_raises_on_random_bytes(raw: bytes) -> None:
    _analyse(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(token_soup)
def test_analyze_never_raises_on_rust_token_soup(text: str) -> None:
    _analyse(text.encode("utf-8"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(REAL_FILE)), st.integers(min_value=0, max_value=len(REAL_FILE)), token_soup)
def test_analyze_never_raises_on_a_real_file_with_a_splice(start: int, end: int, soup: str) -> None:
    start, end = min(start, end), max(start, end)
    _analyse((REAL_FILE[:start] + soup + REAL_FILE[end:]).encode("utf-8"))


def test_a_failing_rule_is_logged_and_warned_while_the_other_rules_still_report(monkeypatch, caplog) -> None:
    from dataclasses import replace

    from safety_ls.engine import analyze as engine
    from safety_ls.rules import ALL_RULES

    def broken(ctx):
        raise RuntimeError("boom")

    failing = replace(ALL_RULES["missing-cast"], check=broken)
    others = [rule for rule in engine.enabled_rules(Settings()) if rule.id != "missing-cast"]
    monkeypatch.setattr(engine, "enabled_rules", lambda settings: [failing, *others])
    result = analyze(SourceText((GOOD + "fn c(x: u64) -> u32 { x as u32 }\n").encode()), "a.rs", Settings())
    assert [d.rule for d in result.diagnostics] == ["undocumented-unsafe-block"]
    assert result.warnings == ["internal error in rule missing-cast: RuntimeError('boom'); other rules ran"]
    assert "rule missing-cast failed on a.rs" in caplog.text
