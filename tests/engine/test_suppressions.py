"""Silencing findings: `// safety-ls: allow(..)`, `allow-file(..)`, and clippy lint attributes."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from expectations import actual, describe, expected
from safety_ls.core.findings import FileResult
from safety_ls.core.parsing import parse
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze, check_path
from tree_sitter import Node

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rules" / "suppressions"
RULES = {
    "missing-cast",
    "missing-promote",
    "undocumented-unsafe-block",
    "undocumented-unsafe-impl",
    "missing-safety-doc",
}


def run(source: str, rules: set[str] = RULES) -> FileResult:
    result = analyze(SourceText.from_text(source), "x.rs", Settings(select=frozenset(rules)))
    assert result.error is None
    return result


def found(source: str, rules: set[str] = RULES) -> list[tuple[int, str]]:
    return [(d.line, d.rule) for d in run(source, rules).diagnostics]


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.rs")), ids=lambda p: p.name)
def test_suppressions_match_fixture_markers(fixture: Path) -> None:
    want = expected(fixture, RULES)
    got = actual(fixture, RULES)
    assert got == want, describe(fixture, want - got, got - want)


def test_allow_comment_on_the_line_silences_the_rule() -> None:
    assert found("fn f(n: usize) -> u32 {\n    n as u32 // safety-ls: allow(missing-cast)\n}\n") == []


def test_allow_comment_on_the_line_above_silences_the_rule() -> None:
    assert found("fn f(n: usize) -> u32 {\n    // safety-ls: allow(missing-cast)\n    n as u32\n}\n") == []


def test_allow_comment_two_lines_above_does_not_reach() -> None:
    source = "fn f(n: usize) -> u32 {\n    // safety-ls: allow(missing-cast)\n\n    n as u32\n}\n"
    assert found(source) == [(4, "missing-cast")]


def test_allow_comment_above_reaches_its_line_past_annotation_comments() -> None:
    source = "fn f(n: usize) -> u32 {\n    // safety-ls: allow(missing-cast)\n    // PROMOTE: none here\n    n as u32\n}\n"
    assert found(source) == []


def test_trailing_allow_comment_reaches_past_the_blank_line_that_annotations_need_below_it() -> None:
    # rustfmt would indent a comment line right below a trailing comment under it: fixes insert
    # a blank line first.
    source = "fn f(n: usize) -> u32 {\n    let m = n; // safety-ls: allow(missing-cast)\n\n    // PROMOTE: x\n    m as u32\n}\n"
    assert found(source) == []


def test_trailing_allow_comment_does_not_reach_past_a_blank_line_alone() -> None:
    source = "fn f(n: usize) -> u32 {\n    let m = n; // safety-ls: allow(missing-cast)\n\n    m as u32\n}\n"
    assert found(source) == [(4, "missing-cast")]


def test_allow_comment_names_the_rules_it_silences() -> None:
    source = "fn f(p: *const u8) -> u32 {\n    unsafe { *p } as u32 // safety-ls: allow(missing-cast)\n}\n"
    assert found(source) == [(2, "undocumented-unsafe-block")]


def test_allow_all() -> None:
    source = "fn f(p: *const u8) -> u32 {\n    unsafe { *p } as u32 // safety-ls: allow(all)\n}\n"
    assert found(source) == []


def test_allow_comment_applies_to_the_finding_start_line_of_a_chain() -> None:
    source = (
        "fn f(x: &Tensor) -> Result<Tensor> {\n"
        "    x // safety-ls: allow(missing-promote)\n"
        "        .narrow(0, 0, 1)?\n"
        "        .to_dtype(DType::F32)\n"
        "}\n"
    )
    assert found(source) == [(4, "missing-promote")]


def test_allow_file_silences_the_rule_everywhere() -> None:
    source = "// safety-ls: allow-file(missing-cast)\nfn f(n: usize, m: u8) -> u32 {\n    n as u32 + m as u32\n}\n"
    assert found(source) == []


def test_allow_file_anywhere_in_the_file() -> None:
    source = "fn f(n: usize) -> u32 {\n    n as u32\n}\n// safety-ls: allow-file(missing-cast, missing-promote)\n"
    assert found(source) == []


def test_allow_in_a_string_literal_is_not_a_suppression() -> None:
    source = 'fn f(n: usize) -> u32 {\n    let s = "// safety-ls: allow-file(missing-cast)";\n    n as u32\n}\n'
    assert found(source) == [(3, "missing-cast")]


def test_block_comment_is_not_an_allow_comment() -> None:
    # The documented form is a `//` comment; `/* safety-ls: allow(..) */` is not one.
    source = "fn f(n: usize) -> u32 {\n    /* safety-ls: allow(missing-cast) */\n    n as u32\n}\n"
    assert found(source) == [(3, "missing-cast")]


def test_unknown_rule_in_allow_is_reported_as_a_warning() -> None:
    result = run("fn f(n: usize) -> u32 {\n    // safety-ls: allow(missing-casts)\n    n as u32\n}\n")
    assert [(d.line, d.rule) for d in result.diagnostics] == [(3, "missing-cast")]
    assert result.warnings == ["`safety-ls: allow` names unknown rule(s): missing-casts"]


@pytest.mark.parametrize("attribute", ["allow", "expect"])
def test_clippy_attribute_on_enclosing_fn_silences_undocumented_block(attribute: str) -> None:
    source = f"#[{attribute}(clippy::undocumented_unsafe_blocks)]\nfn f(p: *const u8) -> u8 {{\n    unsafe {{ *p }}\n}}\n"
    assert found(source) == []


def test_clippy_attribute_does_not_silence_non_mirrored_rules() -> None:
    source = "#[allow(clippy::undocumented_unsafe_blocks)]\nfn f(p: *const u8) -> u32 {\n    unsafe { *p } as u32\n}\n"
    assert found(source) == [(3, "missing-cast")]


def test_clippy_attribute_on_a_sibling_fn_does_not_reach() -> None:
    source = (
        "#[allow(clippy::undocumented_unsafe_blocks)]\nfn a() {}\n"
        "fn b(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
    )
    assert found(source) == [(4, "undocumented-unsafe-block")]


def test_clippy_attribute_with_doc_comment_between() -> None:
    source = (
        "#[allow(clippy::undocumented_unsafe_blocks)]\n/// Reads one byte.\n#[inline]\n"
        "fn f(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
    )
    assert found(source) == []


def test_inner_allow_silences_the_whole_file() -> None:
    source = "#![allow(clippy::undocumented_unsafe_blocks)]\nfn f(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
    assert found(source) == []


def test_inner_allow_in_an_inline_module_stays_in_the_module() -> None:
    source = (
        "mod quiet {\n    #![allow(clippy::undocumented_unsafe_blocks)]\n"
        "    fn f(p: *const u8) -> u8 {\n        unsafe { *p }\n    }\n}\n"
        "fn g(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
    )
    assert found(source) == [(8, "undocumented-unsafe-block")]


def test_missing_safety_doc_attribute_silences_only_that_rule() -> None:
    source = "#[allow(clippy::missing_safety_doc)]\npub unsafe fn f(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
    assert found(source) == [(3, "undocumented-unsafe-block")]


def test_clippy_all_group_silences_missing_safety_doc() -> None:
    assert found("#[allow(clippy::all)]\npub unsafe fn f() {}\n") == []


def test_clippy_attribute_on_impl_block_covers_its_methods() -> None:
    source = (
        "pub struct S;\n#[allow(clippy::undocumented_unsafe_blocks)]\nimpl S {\n"
        "    pub fn f(&self, p: *const u8) -> u8 {\n        unsafe { *p }\n    }\n}\n"
    )
    assert found(source) == []


@pytest.mark.parametrize("name", ["quiet.rs", "loud.rs"])
def test_lint_level_on_a_mod_declaration_reaches_the_module_file(name: str) -> None:
    path = FIXTURES / "crate" / "src" / name
    result = check_path(path, name, Settings(select=frozenset(RULES)))
    assert result.error is None
    want = expected(path, RULES)
    got = {(d.line, d.rule) for d in result.diagnostics}
    assert got == want, describe(path, want - got, got - want)


ATTRIBUTES_EVERYWHERE = """\
#![allow(clippy::cast_possible_truncation)]

#[allow(clippy::undocumented_unsafe_blocks)]
pub mod quiet {
    #![allow(clippy::missing_safety_doc)]
    pub unsafe fn raw(p: *const u8) -> u8 {
        unsafe { *p }
    }
}

mod loud {
    #[expect(clippy::undocumented_unsafe_blocks)]
    // a comment between the attribute and its function
    fn allowed(p: *const u8) -> u8 {
        unsafe { *p }
    }

    fn inside(p: *const u8) -> u8 {
        #[allow(clippy::undocumented_unsafe_blocks)]
        let v = unsafe { *p };
        v + unsafe { *p }
    }

    fn sibling(p: *const u8) -> u8 {
        unsafe { *p }
    }
}

#[allow(clippy::undocumented_unsafe_blocks)]
impl Thing {
    fn method(&self, p: *const u8) -> u8 {
        unsafe { *p }
    }
}

pub unsafe fn bare(p: *const u8) -> u8 {
    // SAFETY: the caller's
    unsafe { *p }
}
"""


def test_a_function_analysed_alone_sees_the_lint_attributes_around_it() -> None:
    """The language server re-analyses the function an edit touched, and looks for lint
    attributes only inside it and on the items around it: the findings must be the whole file's."""
    source = SourceText.from_text(ATTRIBUTES_EVERYWHERE)
    settings = Settings(select=frozenset(RULES))
    whole = analyze(source, "x.rs", settings).diagnostics
    assert {(d.line, d.rule) for d in whole} == {
        (21, "undocumented-unsafe-block"),
        (25, "undocumented-unsafe-block"),
        (36, "missing-safety-doc"),
    }
    functions = [node for node in _descendants(parse(source.data).root_node) if node.type == "function_item"]
    assert len(functions) == 6
    for function in functions:
        start, end = function.start_byte, function.end_byte
        alone = analyze(source, "x.rs", settings, region=(start, end)).diagnostics
        assert alone == [d for d in whole if start <= d.start < end], function.text


def _descendants(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _descendants(child)
