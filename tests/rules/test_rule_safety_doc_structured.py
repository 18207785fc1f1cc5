"""incomplete-safety-doc (profile `structured`): the mistral.rs `# Safety` template."""

from __future__ import annotations

from pathlib import Path

import pytest
from expectations import actual, describe, expected
from safety_ls.core.findings import Diagnostic
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rules" / "safety_doc_structured"
RULE = "incomplete-safety-doc"
STRUCTURED = Settings(profile="structured")


def check(source: str, settings: Settings = STRUCTURED) -> list[Diagnostic]:
    result = analyze(SourceText.from_text(source), "x.rs", settings)
    assert result.error is None
    return [d for d in result.diagnostics if d.rule == RULE]


def doc(*sections: str) -> str:
    lines = ["/// # Safety", "///"]
    for section in sections:
        lines += [f"/// ## {section}", "/// - something specific", "///"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.rs")), ids=lambda p: p.name)
def test_structured_safety_doc_matches_fixture_markers(fixture: Path) -> None:
    want = expected(fixture, {RULE})
    got = actual(fixture, {RULE}, STRUCTURED)
    assert got == want, describe(fixture, want - got, got - want)


@pytest.mark.parametrize("profile", ["default", "grit"])
def test_incomplete_safety_doc_is_only_in_the_structured_profile(profile: str) -> None:
    fixture = FIXTURES / "sections.rs"
    assert actual(fixture, {RULE}, Settings(profile=profile)) == set()


def test_incomplete_safety_doc_can_be_selected_outside_the_profile() -> None:
    source = doc("Invariants") + "pub unsafe fn f() {}\n"
    assert len(check(source, Settings(select=frozenset({RULE})))) == 1


def test_message_lists_every_missing_section_in_template_order() -> None:
    (diagnostic,) = check("/// # Safety\n///\n/// `p` must be valid.\npub unsafe fn f(p: *const u8) {}\n")
    assert diagnostic.message == (
        "`# Safety` section lacks `## Invariants`, `## Caller Responsibilities`, `## Justification`"
    )
    assert diagnostic.data["missing"] == ["Invariants", "Caller Responsibilities", "Justification"]


def test_range_starts_at_the_item_not_its_docs() -> None:
    (diagnostic,) = check(doc("Invariants") + "#[inline]\npub unsafe fn load(p: *const u8) {}\n")
    assert (diagnostic.line, diagnostic.column) == (7, 1)


def test_complete_template_without_ffi_is_accepted() -> None:
    source = doc("Invariants", "Caller Responsibilities", "Justification") + "pub unsafe fn f(p: *const u8) -> u8 { *p }\n"
    assert check(source) == []


@pytest.mark.parametrize(
    "call",
    ["ffi::cudaMalloc(p)", "sys::cuMemAlloc_v2(p)", "cublasLtMatmul(h)", "ncclAllReduce(c)", "hipMalloc(p)"],
)
def test_ffi_calls_require_library_guarantees(call: str) -> None:
    source = doc("Invariants", "Caller Responsibilities", "Justification") + f"pub unsafe fn f() {{ {call}; }}\n"
    (diagnostic,) = check(source)
    assert diagnostic.data["missing"] == ["Library Guarantees"]


def test_library_guarantees_heading_may_name_the_library_and_version() -> None:
    source = (
        doc("Invariants", "Caller Responsibilities", "Justification", "Library Guarantees (NVIDIA cuBLAS 12.6)")
        + "pub unsafe fn f(h: *mut u8) { ffi::cublasLtMatmul(h); }\n"
    )
    assert check(source) == []


def test_bold_labels_count_as_sections() -> None:
    source = (
        "/// # Safety\n///\n/// **Invariants**:\n/// - a\n/// **Caller Responsibilities**:\n/// - b\n"
        "/// **Justification**:\n/// c\npub unsafe fn f() {}\n"
    )
    assert check(source) == []


def test_sections_after_a_sibling_heading_are_outside_safety() -> None:
    source = (
        "/// # Safety\n/// ## Invariants\n/// - a\n/// # Examples\n/// ## Caller Responsibilities\n/// - b\n"
        "/// ## Justification\n/// c\npub unsafe fn f() {}\n"
    )
    (diagnostic,) = check(source)
    assert diagnostic.data["missing"] == ["Caller Responsibilities", "Justification"]


def test_unsafe_traits_are_checked_too() -> None:
    (diagnostic,) = check("/// # Safety\n///\n/// Implementors must return valid pointers.\npub unsafe trait Alloc {}\n")
    assert diagnostic.data["kind"] == "trait"


def test_missing_safety_heading_is_left_to_missing_safety_doc() -> None:
    assert check("/// Loads a byte.\npub unsafe fn f(p: *const u8) -> u8 { *p }\n") == []


def test_block_doc_comment_and_doc_attribute_are_read() -> None:
    source = (
        "/**\n * # Safety\n *\n * ## Invariants\n * - a\n */\n"
        '#[doc = "## Caller Responsibilities"]\n#[doc = "- b"]\n/// ## Justification\n/// c\n'
        "pub unsafe fn f() {}\n"
    )
    assert check(source) == []
