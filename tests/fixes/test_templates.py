"""Annotation templates: every shipped one renders, project templates override, broken ones fall back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from safety_ls.config.loader import load_settings
from safety_ls.config.templates import TemplateError, Templates, default_directory
from safety_ls.facts.categories import SAFETY_BLOCK_TEMPLATES

# Each shipped template with a context like the rules build, and a line its output must contain.
CASES = [
    ("safety_block.j2", {"kind": "other"}, "// SAFETY: <why the operations in this block uphold their invariants>"),
    (
        "safety_device_allocation.j2",
        {"kind": "device allocation", "receiver": "dev", "element": "f32", "count": "n * k"},
        "// SAFETY: `dev.alloc::<f32>(n * k)` returns uninitialized device memory:",
    ),
    (
        "safety_kernel_launch.j2",
        {"kind": "kernel launch", "kernel": "q4_matmul", "arguments": ["&a", "&mut out", "n"]},
        "// - parameters: the 3 arguments (&a, &mut out, n) match the kernel's parameters in number, type and layout: <reason>",
    ),
    (
        "safety_kernel_launch.j2",
        {"kind": "kernel launch", "kernel": None, "arguments": []},
        "// - parameters: the arguments match the kernel's parameters in number, type and layout: <reason>",
    ),
    ("safety_ffi_call.j2", {"kind": "FFI call", "function": "ffi::cublasCreate_v2"}, "// SAFETY: `ffi::cublasCreate_v2` is called"),
    ("safety_ffi_call.j2", {"kind": "FFI call", "function": None}, "// SAFETY: the foreign function is called"),
    ("safety_mmap.j2", {"kind": "mmap"}, "// SAFETY: nothing modifies or truncates the file while mapped"),
    ("safety_raw_pointer.j2", {"kind": "raw pointer dereference"}, "// SAFETY: the pointer is non-null, aligned"),
    (
        "safety_raw_pointer.j2",
        {"kind": "raw pointer dereference", "operations": [{"kind": "deref", "code": "*p", "pointer": "p"}]},
        "// SAFETY: `*p` needs `p` non-null, aligned and pointing to a live value: <reason>",
    ),
    (
        "safety_operations.j2",
        {
            "operations": [
                {"kind": "index", "code": "v.get_unchecked(i)", "receiver": "v", "index": "i"},
                {"kind": "raw_parts", "code": "from_raw_parts(p, n)", "pointer": "p", "length": "n", "mutable": ""},
            ]
        },
        "// - `v.get_unchecked(i)` needs `i < v.len()`: <reason>",
    ),
    (
        "safety_operations.j2",
        {"operations": [{"kind": "ffi", "code": "ffi::cuInit(0)", "callee": "ffi::cuInit"}]},
        "// SAFETY: `ffi::cuInit(0)` meets the contract the library documents",
    ),
    ("safety_transmute.j2", {"kind": "transmute"}, "// SAFETY: source and target have the same size and layout"),
    ("safety_impl.j2", {"type": "Foo", "trait": "DeviceRepr"}, "// SAFETY: `Foo` upholds the contract of the unsafe trait `DeviceRepr`: <reason>"),
    (
        "safety_send_sync.j2",
        {"type": "Cache", "trait": "Sync", "fields": [{"name": "map", "type": "HashMap<String, u32>"}]},
        "// - `map: HashMap<String, u32>`: <why sharing this field is sound>",
    ),
    ("safety_send_sync.j2", {"type": "Handle", "trait": "Send", "fields": []}, "// SAFETY: `Handle` is Send: <why moving it to another thread is sound>"),
    ("safety_doc.j2", {"kind": "function", "ffi": False}, "/// # Safety"),
    ("safety_doc.j2", {"kind": "function", "ffi": True}, "/// ## Library Guarantees"),
    ("safety_doc.j2", {"kind": "trait", "ffi": False}, "/// - <what the implementer must ensure>"),
    ("safety_doc_sections.j2", {"missing": ["Justification"]}, "/// ## Justification"),
    ("promote.j2", {"hint": "softmax"}, "// PROMOTE: <reason, e.g. softmax over F16/BF16 overflows to NaN; compute in F32>"),
    ("promote.j2", {"hint": None}, "// PROMOTE: <reason>"),
    ("contiguous.j2", {"cause": "`.t()`"}, "// CONTIGUOUS: <reason, e.g. `.t()` leaves non-unit strides"),
    ("contiguous.j2", {"cause": None}, "// CONTIGUOUS: <reason>"),
    ("cast.j2", {"conversions": [{"from": "usize", "to": "u32"}]}, "// CAST: usize → u32, <reason>"),
    ("cast.j2", {"conversions": [{"from": None, "to": "f32"}]}, "// CAST: <from> → f32, <reason>"),
    (
        "cast.j2",
        {"conversions": [{"from": "usize", "to": "u32"}, {"from": "i64", "to": "f64"}]},
        "// CAST: usize → u32, i64 → f64, <reason>",
    ),
    ("trait_object.j2", {}, "// TRAIT_OBJECT: <"),
    ("exhaustive.j2", {}, "// EXHAUSTIVE: <"),
    ("borrow.j2", {}, "// BORROW: <"),
    ("index.j2", {}, "// INDEX: <"),
    (
        "alloc_wrapper.rs.j2",
        {
            "name": "alloc_device_buffer",
            "parameter": "device",
            "receiver": "std::sync::Arc<cudarc::driver::CudaDevice>",
            "driver": "cudarc::driver",
            "candle": None,
            "cfg": ['feature = "cuda"'],
            "max_width": 100,
        },
        "pub(crate) fn alloc_device_buffer<T: cudarc::driver::DeviceRepr>(",
    ),
]


@pytest.mark.parametrize("template,context,expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_every_template_renders(template: str, context: dict, expected: str) -> None:
    lines = Templates().render(template, context)
    assert lines and lines[-1].strip(), "no trailing blank lines"
    assert any(expected in line for line in lines), lines
    assert not any("{{" in line or "{%" in line for line in lines)


def test_every_shipped_template_is_covered() -> None:
    shipped = {path.name for path in default_directory().glob("*.j2")}
    assert shipped == {case[0] for case in CASES}
    assert set(SAFETY_BLOCK_TEMPLATES.values()) <= shipped


def test_comment_templates_render_only_comment_lines() -> None:
    for template, context, _ in CASES:
        if template == "alloc_wrapper.rs.j2":
            continue
        for line in Templates().render(template, context):
            assert line.startswith("//"), (template, line)


def test_project_directory_overrides_one_template(tmp_path: Path) -> None:
    (tmp_path / "safety_block.j2").write_text("// SAFETY: [{{ kind }}] <house style reason>\n")
    templates = Templates(tmp_path)
    assert templates.render("safety_block.j2", {"kind": "other"}) == ["// SAFETY: [other] <house style reason>"]
    # The others still come from the defaults.
    assert templates.render("promote.j2", {"hint": None}) == ["// PROMOTE: <reason>"]
    assert templates.problems == []


def test_template_dir_setting_is_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "safety-ls.toml").write_text('template-dir = "tools/templates"\n')
    (tmp_path / "tools" / "templates").mkdir(parents=True)
    (tmp_path / "tools" / "templates" / "cast.j2").write_text(
        "// CAST: {% for c in conversions %}{{ c.from or '?' }} to {{ c.to }}; {% endfor %}<why>\n"
    )
    (tmp_path / "src").mkdir()
    settings = load_settings(tmp_path / "src")
    assert settings.template_dir == "tools/templates" and settings.root is not None
    templates = Templates(Path(settings.root) / settings.template_dir)
    assert templates.render("cast.j2", {"conversions": [{"from": None, "to": "u8"}]}) == ["// CAST: ? to u8; <why>"]


BROKEN = {
    "syntax error": "// SAFETY: {% if kind %}<reason>\n",
    "undefined variable": "// SAFETY: {{ no_such_variable }} <reason>\n",
    "sandbox escape": "// SAFETY: {{ ''.__class__.__mro__[1].__subclasses__() }}\n",
    "attribute escape": "// SAFETY: {{ cycler.__init__.__globals__.os.system('touch PWNED') }}\n",
    "runtime error": "// SAFETY: {{ 1 // 0 }}\n",
    "not utf-8": b"\xff\xfe// SAFETY: {{ kind }}\n",
}


@pytest.mark.parametrize("problem", sorted(BROKEN))
def test_broken_project_template_is_reported_and_the_default_used(tmp_path: Path, problem: str) -> None:
    content = BROKEN[problem]
    path = tmp_path / "safety_block.j2"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    templates = Templates(tmp_path)
    default = Templates().render("safety_block.j2", {"kind": "other"})
    assert templates.render("safety_block.j2", {"kind": "other"}) == default
    assert len(templates.problems) == 1
    reported = templates.problems[0]
    assert isinstance(reported, TemplateError)
    assert reported.name == "safety_block.j2" and "safety_block.j2" in str(reported)
    # Rendering again reports nothing new.
    templates.render("safety_block.j2", {"kind": "other"})
    assert len(templates.problems) == 1
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


def test_cli_warns_naming_the_broken_template(tmp_path: Path) -> None:
    (tmp_path / "safety-ls.toml").write_text('template-dir = "templates"\n')
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "safety_raw_pointer.j2").write_text("// SAFETY: {{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    (tmp_path / "templates" / "promote.j2").write_text("// PROMOTE: <house reason>\n")
    source = tmp_path / "lib.rs"
    source.write_text(
        "pub fn f(p: *const u8, t: Tensor) -> u8 {\n"
        "    let _ = t.to_dtype(DType::F32);\n"
        "    unsafe { *p }\n"
        "}\n"
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    done = subprocess.run(
        [sys.executable, "-m", "safety_ls", "fix", "lib.rs"], cwd=tmp_path, capture_output=True, text=True, env=environment
    )
    assert done.returncode == 1, done.stderr  # placeholders remain
    assert "safety_raw_pointer.j2" in done.stderr and "built-in template was used" in done.stderr
    assert "promote.j2" not in done.stderr
    fixed = source.read_text()
    assert "    // SAFETY: `*p` needs `p` non-null, aligned" in fixed  # the built-in one
    assert "    // PROMOTE: <house reason>\n    let _ = t.to_dtype" in fixed  # the project's one


def test_project_annotation_template_that_renders_code_is_refused(tmp_path: Path) -> None:
    (tmp_path / "safety_block.j2").write_text("// SAFETY: <reason>\nstd::process::abort();\n")
    templates = Templates(tmp_path)
    assert templates.render("safety_block.j2", {"kind": "other"}) == Templates().render("safety_block.j2", {"kind": "other"})
    assert len(templates.problems) == 1 and "not an outer `//` comment" in str(templates.problems[0])
