"""The grit profile's tags: TRAIT_OBJECT, EXHAUSTIVE, BORROW, INDEX (candle-mi conventions)."""

from __future__ import annotations

from pathlib import Path

import pytest
from expectations import actual
from safety_ls.core.findings import Diagnostic
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rules" / "grit"
RULES = {"missing-trait-object", "missing-exhaustive", "missing-borrow", "missing-index"}
GRIT = Settings(profile="grit")


def check(source: str, settings: Settings = GRIT) -> list[Diagnostic]:
    result = analyze(SourceText.from_text(source), "x.rs", settings)
    assert result.error is None
    return [d for d in result.diagnostics if d.rule in RULES]


def found(source: str, settings: Settings = GRIT) -> list[tuple[int, str]]:
    return [(d.line, d.rule) for d in check(source, settings)]




@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.rs")), ids=lambda p: p.name)
@pytest.mark.parametrize("profile", ["default", "structured"])
def test_grit_rules_are_off_outside_the_grit_profile(fixture: Path, profile: str) -> None:
    assert actual(fixture, RULES, Settings(profile=profile)) == set()


def test_grit_rule_can_be_selected_without_the_profile() -> None:
    source = "fn f(v: &[u8]) -> u8 {\n    v[0]\n}\n"
    assert found(source, Settings(select=frozenset({"missing-index"}))) == [(2, "missing-index")]


def test_messages_name_the_site() -> None:
    source = (
        "fn f(v: &[u8], s: String, x: &dyn Debug) -> u8 {\n"
        "    let t = s.as_str();\n"
        "    v[0]\n"
        "}\n"
    )
    messages = {d.rule: d.message for d in check(source)}
    assert messages == {
        "missing-trait-object": "`dyn Debug` missing a `// TRAIT_OBJECT: <reason>` comment",
        "missing-borrow": "explicit `.as_str()` missing a `// BORROW: <what is converted>` comment",
        "missing-index": "direct index `v[0]` missing an `// INDEX: <reason>` comment",
    }


def test_trait_object_comment_above_fn_covers_its_signature_only() -> None:
    source = (
        "// TRAIT_OBJECT: callers pass either a file or a socket\n"
        "fn f(out: &mut dyn Write) {\n"
        "    let other: Box<dyn Write> = Box::new(Vec::new());\n"
        "}\n"
    )
    assert found(source) == [(3, "missing-trait-object")]


def test_trait_object_comment_above_a_wrapped_parameter() -> None:
    source = (
        "fn f(\n"
        "    // TRAIT_OBJECT: callers pass either a file or a socket\n"
        "    out: &mut dyn Write,\n"
        "    log: &dyn Debug,\n"
        ") {}\n"
    )
    assert found(source) == [(4, "missing-trait-object")]


def test_exhaustive_trailing_comment_on_the_attribute_is_the_convention() -> None:
    source = (
        "#[allow(clippy::exhaustive_enums)] // EXHAUSTIVE: internal dispatch enum; crate owns all variants\n"
        "pub enum A { X }\n"
        "#[allow(clippy::exhaustive_enums)]\n"
        "pub enum B { Y }\n"
    )
    assert found(source) == [(3, "missing-exhaustive")]


def test_exhaustive_among_other_lints() -> None:
    source = "#[allow(dead_code, clippy::exhaustive_enums)]\npub enum A { X }\n"
    assert found(source) == [(1, "missing-exhaustive")]


@pytest.mark.parametrize(
    "comment",
    [
        "// INDEX: i < dims.len(), checked above",
        "/* INDEX: i < dims.len(), checked above */",
        "// The shape was validated in `new`.\n    // INDEX: i < dims.len()",
        "// INDEX: i < dims.len(), checked above\n    #[allow(clippy::indexing_slicing)]",
    ],
    ids=["line", "block", "run", "above attribute"],
)
def test_index_comment_forms(comment: str) -> None:
    assert found(f"fn f(dims: &[usize], i: usize) -> usize {{\n    {comment}\n    let d = dims[i];\n    d\n}}\n") == []


def test_trailing_index_comment_is_rejected() -> None:
    source = "fn f(dims: &[usize], i: usize) -> usize {\n    dims[i] // INDEX: i < dims.len()\n}\n"
    assert found(source) == [(2, "missing-index")]


def test_full_range_index_cannot_panic() -> None:
    assert found("fn f(v: &[u8]) -> &[u8] {\n    &v[..]\n}\n") == []


def test_index_comment_above_wrapped_statement_covers_later_lines() -> None:
    source = (
        "fn f(a: &[u8], b: &[u8]) -> u8 {\n"
        "    // INDEX: both slices are non-empty, checked by the caller\n"
        "    let s = a[0]\n"
        "        + b[0];\n"
        "    s\n"
        "}\n"
    )
    assert found(source) == []


def test_borrow_in_chained_call_site_is_the_method_line() -> None:
    source = (
        "fn f(data: &str) -> usize {\n"
        "    data\n"
        "        .trim()\n"
        "        // BORROW: owned copy for the cache key\n"
        "        .to_owned()\n"
        "        .len()\n"
        "}\n"
    )
    assert found(source) == []
    assert [(d.line, d.column) for d in check(source.replace("        // BORROW: owned copy for the cache key\n", ""))] == [
        (4, 10)
    ]


def test_grit_tags_inside_macro_arguments() -> None:
    source = (
        "fn f(v: &[u8]) {\n"
        "    // INDEX: v is non-empty, checked by the caller\n"
        '    println!("{}", v[0]);\n'
        '    println!("{}", v[1]);\n'
        "}\n"
    )
    assert found(source) == [(4, "missing-index")]


def test_grit_with_crlf_and_non_ascii() -> None:
    source = (
        "fn f(v: &[u8]) -> u8 {\n"
        "    // INDEX: v has ≥ 2 elements → checked by the caller\n"
        "    let a = v[1];\n"
        '    let s = "→"; let b = v[0];\n'
        "    a + b\n"
        "}\n"
    ).replace("\n", "\r\n")
    assert [(d.line, d.column, d.rule) for d in check(source)] == [(4, 26, "missing-index")]


@pytest.mark.parametrize(
    "allow",
    [
        "    // bounds checked above\n    #[allow(clippy::indexing_slicing)]\n",
        "    #[allow(clippy::indexing_slicing)] // j < v.len() checked by the caller\n",
        '    #[allow(clippy::indexing_slicing, reason = "j < v.len()")]\n',
        "    // j < v.len()\n    #[allow(\n        clippy::as_conversions,\n        clippy::indexing_slicing,\n    )]\n",
    ],
)
def test_index_under_a_reasoned_clippy_allow_is_not_flagged(allow: str) -> None:
    source = f"fn f(v: &[u8], j: usize) -> u8 {{\n{allow}    let a = v[j];\n    a\n}}\n"
    assert found(source) == []


def test_index_under_a_clippy_allow_without_a_reason_is_flagged() -> None:
    source = "fn f(v: &[u8], j: usize) -> u8 {\n    #[allow(clippy::indexing_slicing)]\n    let a = v[j];\n    a\n}\n"
    assert found(source) == [(3, "missing-index")]


def test_reasoned_allow_on_the_fn_covers_its_body() -> None:
    source = (
        "// j comes from the loop bound\n"
        "#[allow(clippy::indexing_slicing)]\n"
        "fn f(v: &[u8], j: usize) -> u8 {\n"
        "    v[j]\n"
        "}\n"
    )
    assert found(source) == []


def test_allow_of_another_lint_does_not_cover_an_index() -> None:
    source = "fn f(v: &[u8], j: usize) -> u8 {\n    // reason\n    #[allow(clippy::as_conversions)]\n    let a = v[j];\n    a\n}\n"
    assert found(source) == [(4, "missing-index")]
