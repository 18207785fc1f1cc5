"""Fix requests travel with their findings: typed, and shifted with them across edits."""

from __future__ import annotations

from safety_ls.config.templates import Templates
from safety_ls.core.findings import Diagnostic
from safety_ls.core.fix_requests import (
    AllocationRewrite,
    CommentInsertion,
    DocInsertion,
    DocSectionCompletion,
)
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze
from safety_ls.fixes.apply import apply_edits, build_fixes

CODE = b"""pub fn f(p: *const u8, n: usize) -> f32 {
    let x = unsafe { *p };
    n as f32 + x as f32
}

/// Reads.
pub unsafe fn g(p: *const u8) -> u8 {
    *p
}
"""


def _diagnostics(data: bytes) -> list[Diagnostic]:
    return analyze(SourceText(data), "lib.rs", Settings()).diagnostics


def test_each_fixable_diagnostic_carries_a_typed_request():
    diagnostics = [d for d in _diagnostics(CODE) if d.fixable]
    kinds = {d.rule: type(d.fix) for d in diagnostics}
    assert kinds == {
        "undocumented-unsafe-block": CommentInsertion,
        "missing-cast": CommentInsertion,
        "missing-safety-doc": DocInsertion,
    }
    block = next(d for d in diagnostics if d.rule == "undocumented-unsafe-block")
    assert block.fix.tag == "SAFETY" and block.fix.context["operations"][0]["code"] == "*p"


def test_moved_diagnostic_keeps_its_request_shifted_and_it_still_fixes_the_edited_text():
    prefix = b"// A header comment added above everything.\n"
    moved = [d.moved(len(prefix)) for d in _diagnostics(CODE)]
    for before, after in zip(_diagnostics(CODE), moved):
        assert (after.fix is None) == (before.fix is None)
        if isinstance(before.fix, (CommentInsertion, DocInsertion)):
            assert after.fix.offset == before.fix.offset + len(prefix)
            assert after.fix.context == before.fix.context
    edited = prefix + CODE
    # The shifted requests fix the edited text exactly as a fresh analysis of it would.
    from_moved = apply_edits(edited, [e for fix in build_fixes(SourceText(edited), moved, Templates()) for e in fix.edits])
    fresh = _diagnostics(edited)
    from_fresh = apply_edits(edited, [e for fix in build_fixes(SourceText(edited), fresh, Templates()) for e in fix.edits])
    assert from_moved == from_fresh != edited


def test_every_request_kind_shifts_all_its_offsets():
    comment = CommentInsertion(10, "    ", "CAST", "cast.j2", {"conversions": []})
    doc = DocInsertion(20, "", "safety_doc.j2", {"kind": "function", "ffi": False}, after_docs=True)
    sections = DocSectionCompletion(30, "", ("Justification",))
    rewrite = AllocationRewrite(40, 70, "dev.alloc_zeros::<f32>(n)", None)
    assert comment.shifted(5).offset == 15 and comment.shifted(5).template == "cast.j2"
    assert doc.shifted(-3).offset == 17 and doc.shifted(-3).after_docs
    assert sections.shifted(1).offset == 31 and sections.shifted(1).missing == ("Justification",)
    assert (rewrite.shifted(2).start, rewrite.shifted(2).end) == (42, 72)
