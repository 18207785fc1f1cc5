"""The findings an open document keeps across edits: moved lazily, published with carried ranges."""

from __future__ import annotations

from safety_ls.core.findings import Diagnostic, Severity
from safety_ls.core.source import SourceText
from safety_ls.lsp.stored_findings import StoredFindings, lsp_span


def finding(rule: str, start: int, end: int) -> Diagnostic:
    return Diagnostic("x.rs", rule, Severity.WARNING, rule, 1, 1, 1, 1, False, start, end)


def stored(source: SourceText, *items: Diagnostic) -> StoredFindings:
    findings = StoredFindings()
    findings.replace(list(items))
    findings.published(source, "utf-16")  # converts and caches every range
    return findings


def insert(source: SourceText, offset: int, text: bytes, findings: StoredFindings) -> SourceText:
    edited = source.replaced(offset, offset, text)
    old_end_line = source.lsp_line_of(offset)
    findings.shift(offset, offset, offset + len(text), old_end_line, edited.lsp_line_of(offset + len(text)) - old_end_line)
    return edited


def ranges(findings: StoredFindings, source: SourceText) -> list[tuple]:
    return [span for _, _, _, span in findings.published(source, "utf-16")]


def test_a_finding_after_the_edit_on_its_line_is_published_with_its_new_columns():
    source = SourceText(b"fn a() {} fn b() { x }\nfn c() { y }\n")
    findings = stored(source, finding("on-line", 19, 20), finding("below", 32, 33))
    source = insert(source, 2, b"zz", findings)
    assert ranges(findings, source) == [(0, 21, 0, 22), (1, 9, 1, 10)]


def test_findings_after_line_breaks_typed_in_one_place_are_published_on_their_new_lines():
    source = SourceText(b"fn a() {}\nfn b() { x }\nfn c() { y }\n")
    findings = stored(source, finding("first", 19, 20), finding("second", 32, 33))
    for typed in (b"\n", b"q", b"\r\n", b"\r"):
        source = insert(source, 9, typed, findings)
        expected = [lsp_span(source, d.start, d.end, "utf-16") for d in _copy_items(findings)]
        assert ranges(findings, source) == expected
    assert ranges(findings, source) == [(4, 9, 4, 10), (5, 9, 5, 10)]  # `\r`, `\r\n` and two `\n` above


def test_findings_read_after_edits_are_at_their_moved_offsets():
    source = SourceText(b"fn a() {}\nfn b() { x }\n")
    findings = stored(source, finding("before", 3, 4), finding("overlapping", 8, 12), finding("after", 19, 20))
    source = insert(source, 9, b"abc", findings)
    source = insert(source, 12, b"de", findings)
    assert [(d.rule, d.start, d.end) for d in findings.items()] == [("before", 3, 4), ("after", 24, 25)]


def test_replacing_a_region_keeps_the_moved_findings_after_it():
    source = SourceText(b"fn a() { p }\nfn b() { q }\nfn c() { r }\n")
    findings = stored(source, finding("a", 9, 10), finding("b", 22, 23), finding("c", 35, 36))
    source = insert(source, 21, b"zz", findings)  # in b's body, before its finding
    findings.replace_region((13, 27), [finding("b-again", 24, 25)])
    assert [(d.rule, d.start) for d in findings.items()] == [("a", 9), ("b-again", 24), ("c", 37)]
    assert ranges(findings, source) == [(0, 9, 0, 10), (1, 11, 1, 12), (2, 9, 2, 10)]


def _copy_items(findings: StoredFindings) -> list[Diagnostic]:
    import copy

    return copy.deepcopy(findings).items()
