"""Untagged annotations: a plain comment that already gives the reason gets the tag added, not a template stacked."""

from __future__ import annotations

import pytest
from safety_ls.config.templates import Templates
from safety_ls.core.fix_requests import CommentInsertion
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze
from safety_ls.fixes.apply import fix_source

SETTINGS = Settings(select=frozenset({"missing-contiguous", "missing-cast", "missing-promote"}))
SOURCE = (
    "fn f(a: &Tensor, b: &Tensor, n: usize) -> Result<Tensor> {\n"
    "    // Convert to contiguous as matmul doesn't support strided\n"
    "    let bt = b.t()?.contiguous()?;\n"
    "    // indices fit in u32: the vocabulary has 50k entries\n"
    "    let m = n as u32;\n"
    "    // softmax over BF16 loses precision, compute in F32\n"
    "    let p = a.to_dtype(DType::F32)?;\n"
    "    a.matmul(&bt)\n"
    "}\n"
)


def test_a_comment_that_gives_the_reason_is_reported_as_untagged() -> None:
    diagnostics = analyze(SourceText.from_text(SOURCE), "x.rs", SETTINGS).diagnostics
    assert [(d.line, d.rule) for d in diagnostics] == [(3, "missing-contiguous"), (5, "missing-cast"), (7, "missing-promote")]
    assert all("untagged annotation" in d.message for d in diagnostics)


def test_the_fix_adds_the_tag_to_the_existing_comment() -> None:
    outcome = fix_source(SOURCE.encode(), "x.rs", SETTINGS, Templates())
    fixed = outcome.fixed.decode()
    assert "    // CONTIGUOUS: Convert to contiguous as matmul doesn't support strided\n" in fixed
    assert "    // CAST: usize → u32, indices fit in u32: the vocabulary has 50k entries\n" in fixed
    assert "    // PROMOTE: softmax over BF16 loses precision, compute in F32\n" in fixed
    assert fixed.count("\n") == SOURCE.count("\n")  # nothing stacked
    assert outcome.remaining == []


@pytest.mark.parametrize(
    "comment",
    [
        "// unrelated note about the algorithm",  # says nothing about the cast
        "// let m = n as u32;",  # commented-out code
        "/// Documentation of something else that converts",  # a doc comment
        "// SAFETY: converts the length",  # another tag's annotation
    ],
)
def test_comments_that_do_not_give_the_reason_get_the_template(comment: str) -> None:
    source = f"fn f(n: usize) {{\n    {comment}\n    let m = n as u32;\n}}\n"
    (diagnostic,) = analyze(SourceText.from_text(source), "x.rs", SETTINGS).diagnostics
    assert "untagged" not in diagnostic.message
    assert isinstance(diagnostic.fix, CommentInsertion)


def test_a_section_title_is_not_the_reason_but_the_lines_below_it_are() -> None:
    source = (
        "fn f(a: &Tensor) -> Result<Tensor> {\n"
        "    // --- Recurrence loop (F32) ---\n"
        "    let p = a.to_dtype(DType::F32)?;\n"
        "    // --- Verify logits changed ---\n"
        "    // Move both to F32 for the comparison with the reference\n"
        "    a.to_dtype(DType::F32)\n"
        "}\n"
    )
    first, second = analyze(SourceText.from_text(source), "x.rs", SETTINGS).diagnostics
    assert "untagged" not in first.message
    assert "untagged" in second.message
    assert source.encode()[second.fix.offset :].startswith(b"Move both")


def test_an_allow_comment_out_of_reach_is_no_reason_to_tag() -> None:
    # A blank line ends the allow's reach; its text names the rule (`cast`) but gives no reason,
    # and turning it into `// CAST: u64 → u32, safety-ls: allow(missing-cast)` would silence nothing.
    source = "fn f(x: u64) -> u32 {\n    // safety-ls: allow(missing-cast)\n\n    x as u32\n}\n"
    (diagnostic,) = analyze(SourceText.from_text(source), "x.rs", SETTINGS).diagnostics
    assert "untagged" not in diagnostic.message
    fixed = fix_source(source.encode(), "x.rs", SETTINGS, Templates()).fixed.decode()
    assert "    // safety-ls: allow(missing-cast)\n\n    // CAST: u64 → u32, <reason>\n    x as u32\n" in fixed
