"""placeholder-annotation and vague-annotation: annotations that say nothing yet."""

from __future__ import annotations

import pytest
from safety_ls.core.findings import Diagnostic
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze

RULES = {"placeholder-annotation", "vague-annotation"}


def check(source: str, settings: Settings | None = None) -> list[Diagnostic]:
    result = analyze(SourceText.from_text(source), "x.rs", settings or Settings(select=frozenset(RULES)))
    assert result.error is None
    return result.diagnostics


def found(source: str, settings: Settings | None = None) -> list[tuple[int, str]]:
    return [(d.line, d.rule) for d in check(source, settings)]




@pytest.mark.parametrize(
    "reason, placeholder",
    [
        ("<reason>", "<reason>"),
        ("usize → u32, <why it fits>", "<why it fits>"),
        ("TODO", "TODO"),
        ("FIXME later", "FIXME"),
        ("[...]", "[...]"),
        ("[Invariant 1]", "[Invariant 1]"),
        ("[description]", "[description]"),
        ("...", "..."),
        ("???", "???"),
    ],
)
def test_placeholder_message_names_the_placeholder(reason: str, placeholder: str) -> None:
    (diagnostic,) = check(f"fn f(n: usize) {{\n    // CAST: {reason}\n    let a = n as u32;\n}}\n")
    assert diagnostic.rule == "placeholder-annotation"
    assert diagnostic.message == f"CAST annotation still holds the placeholder `{placeholder}`: write the actual reason"


@pytest.mark.parametrize(
    "reason",
    [
        "usize → u32, lengths of Vec<u8> are capped at 2^20",
        "usize → u32, see [`Tensor::dims`](crate::Tensor) for the bound",
        "usize → u32, `<usize>` index from the header",
        "u8 → u32, widening",
    ],
)
def test_written_reasons_are_not_placeholders(reason: str) -> None:
    assert check(f"fn f(n: usize) {{\n    // CAST: {reason}\n    let a = n as u32;\n}}\n") == []


def test_placeholder_range_starts_at_the_comment() -> None:
    (diagnostic,) = check("fn f(p: *const u8) -> u8 {\n    let x = 1; // SAFETY: TODO\n    unsafe { *p }\n}\n")
    assert (diagnostic.line, diagnostic.column) == (2, 16)


def test_placeholder_in_safety_doc_template_is_reported_on_the_heading() -> None:
    source = "/// # Safety\n///\n/// ## Invariants\n/// - Invariant 1: [description]\npub unsafe fn f() {}\n"
    (diagnostic,) = check(source)
    assert diagnostic.line == 1
    assert diagnostic.data == {"tag": "# Safety", "placeholder": "[description]"}


def test_annotation_text_inside_string_literal_is_ignored() -> None:
    assert check('fn f() -> &\'static str {\n    "// SAFETY: TODO"\n}\n') == []


def test_block_comment_placeholder() -> None:
    assert found("fn f() {\n    /* PROMOTE:\n       <reason> */\n    g();\n}\n") == [(2, "placeholder-annotation")]


@pytest.mark.parametrize(
    "reason",
    ["safe", "This is safe.", "trust me", "numerical stability", "For numerical stability", "performance", "", "OK"],
)
def test_generic_phrases_are_vague(reason: str) -> None:
    assert found(f"fn f(p: *const u8) -> u8 {{\n    // SAFETY: {reason}\n    unsafe {{ *p }}\n}}\n") == [
        (2, "vague-annotation")
    ]


def test_vague_message_quotes_the_reason() -> None:
    (diagnostic,) = check("fn f() {\n    // PROMOTE: numerical stability\n    g();\n}\n")
    assert diagnostic.message == "PROMOTE annotation only says “numerical stability”: name what makes this site correct"


def test_empty_reason_message() -> None:
    (diagnostic,) = check("fn f() {\n    // SAFETY:\n    g();\n}\n")
    assert diagnostic.message == "SAFETY annotation gives no reason: name what makes this site correct"


def test_reason_after_a_blank_comment_line_is_read() -> None:
    source = (
        "fn f(p: *const u8) {\n"
        "    // SAFETY:\n"
        "    //\n"
        "    // `p` points into the mmapped file, which outlives this borrow\n"
        "    unsafe { g(p) };\n"
        "}\n"
    )
    assert check(source) == []


def test_blank_comment_line_does_not_reach_past_the_comment_run() -> None:
    source = "fn f() {\n    // SAFETY:\n    //\n    g();\n    // the next comment\n}\n"
    assert found(source) == [(2, "vague-annotation")]


def test_specific_reasons_are_not_vague() -> None:
    source = (
        "fn f(x: &Tensor) {\n"
        "    // PROMOTE: softmax over F16 produces NaN for logits above 11; compute in F32\n"
        "    g();\n"
        "    // SAFETY: safe because `p` is non-null, checked on the line above\n"
        "    g();\n"
        "}\n"
    )
    assert check(source) == []


def test_configured_vague_phrases_extend_the_list() -> None:
    source = "fn f() {\n    // SAFETY: it compiles!\n    g();\n}\n"
    assert check(source) == []
    settings = Settings(select=frozenset(RULES), vague_phrases=("It compiles",))
    assert found(source, settings) == [(2, "vague-annotation")]


def test_vague_and_placeholder_tags_are_case_sensitive_except_safety() -> None:
    source = "fn f() {\n    // safety: safe\n    g();\n    // promote: safe\n    g();\n}\n"
    assert found(source) == [(2, "vague-annotation")]


def test_quality_rules_run_in_every_profile() -> None:
    source = "fn f() {\n    // SAFETY: TODO\n    // CAST: trust me\n    g();\n}\n"
    for profile in ("default", "structured", "grit"):
        diagnostics = analyze(SourceText.from_text(source), "x.rs", Settings(profile=profile)).diagnostics
        assert {(d.line, d.rule) for d in diagnostics} >= {(2, "placeholder-annotation"), (3, "vague-annotation")}
