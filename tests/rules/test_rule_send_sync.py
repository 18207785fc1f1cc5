"""unjustified-send-sync: documented `unsafe impl Send/Sync` whose reason does not hold up."""

from __future__ import annotations

from pathlib import Path

import pytest
from expectations import actual, describe, expected
from safety_ls.core.findings import Diagnostic
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze, check_path

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rules" / "send_sync"
CRATE = FIXTURES / "crate"
RULE = "unjustified-send-sync"
# The impl rule runs too, so that fixtures state the whole verdict on each impl.
RULES = {RULE, "undocumented-unsafe-impl"}


def check(source: str, rules: set[str] | frozenset[str] = frozenset({RULE})) -> list[Diagnostic]:
    result = analyze(SourceText.from_text(source), "x.rs", Settings(select=frozenset(rules)))
    assert result.error is None
    return result.diagnostics


def flagged(source: str) -> list[int]:
    return [d.line for d in check(source)]


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.rs")), ids=lambda p: p.name)
def test_send_sync_rules_match_fixture_markers(fixture: Path) -> None:
    want = expected(fixture, RULES)
    got = actual(fixture, RULES)
    assert got == want, describe(fixture, want - got, got - want)


def test_sync_claiming_synchronization_without_lock_is_flagged() -> None:
    diagnostics = check((FIXTURES / "rocmforge_finding7.rs").read_text())
    assert [d.line for d in diagnostics] == [20]
    (diagnostic,) = diagnostics
    assert diagnostic.message.startswith("SAFETY comment claims synchronization, but `GpuModelExecutor` has no")
    assert "`compiled_modules: HashMap<String, HipModule>`" in diagnostic.message
    assert "`compiled_kernels: HashMap<String, HipKernel>`" in diagnostic.message
    assert "backend" not in diagnostic.data["fields"]
    assert (diagnostic.column, diagnostic.end_column) == (1, 7)  # the `unsafe` keyword


def test_mlxrs_prev_action_publication_invariant_is_not_flagged() -> None:
    assert flagged((FIXTURES / "mlxrs_prev_action.rs").read_text()) == []


def test_review_fix_with_rwlock_is_not_flagged() -> None:
    assert flagged((FIXTURES / "rocmforge_fixed.rs").read_text()) == []


def test_sync_for_mutex_wrapped_hashmap_is_not_flagged() -> None:
    source = (
        "use std::{collections::HashMap, sync::Mutex};\n"
        "struct Registry { entries: Mutex<HashMap<String, u32>> }\n"
        "// SAFETY: every access to `entries` goes through the Mutex\n"
        "unsafe impl Sync for Registry {}\n"
    )
    assert flagged(source) == []


def test_library_guarantee_with_documentation_and_version_justifies_sync() -> None:
    source = (
        "struct CudaBlasLT { handle: *mut std::ffi::c_void }\n"
        "// SAFETY: NVIDIA cuBLAS 12.6 documentation: the cublasLt handle is thread-safe\n"
        "// and can be used concurrently from multiple host threads.\n"
        "unsafe impl Sync for CudaBlasLT {}\n"
    )
    assert flagged(source) == []


@pytest.mark.parametrize(
    "comment",
    [
        "// SAFETY: concurrent use from several host threads is allowed by cuBLASLt",
        "// SAFETY: NCCL communicators may be used from any host thread (NCCL docs)",
        "// SAFETY: the handle can be used from multiple threads, as the HIP runtime documents",
    ],
)
def test_library_guarantee_as_real_comments_phrase_it_justifies_sync(comment: str) -> None:
    source = f"struct Handle {{ raw: *mut std::ffi::c_void }}\n{comment}\nunsafe impl Sync for Handle {{}}\n"
    assert flagged(source) == []


def test_concurrent_use_claim_without_a_library_is_flagged() -> None:
    source = (
        "struct Handle { raw: *mut std::ffi::c_void }\n"
        "// SAFETY: the handle may be used from several threads\n"
        "unsafe impl Sync for Handle {}\n"
    )
    assert [d.line for d in check(source)] == [3]


def test_library_guarantee_without_a_source_is_flagged() -> None:
    source = (
        "struct CudaBlasLT { handle: *mut std::ffi::c_void }\n"
        "// SAFETY: cuBLAS is thread-safe\n"
        "unsafe impl Sync for CudaBlasLT {}\n"
    )
    (diagnostic,) = check(source)
    assert diagnostic.line == 3
    assert "does not say why sharing `handle: *mut std::ffi::c_void` across threads is sound" in diagnostic.message


def test_invariant_in_the_struct_doc_comment_counts() -> None:
    source = (
        "/// Written exactly once during init, read-only afterwards.\n"
        "struct Table { rows: Vec<f32> }\n"
        "// SAFETY: see the invariant on `Table`\n"
        "unsafe impl Sync for Table {}\n"
    )
    assert flagged(source) == []


def test_caller_provided_synchronization_counts() -> None:
    source = (
        "struct Cache { map: HashMap<u64, u64> }\n"
        "// SAFETY: callers must hold `CACHE_LOCK` around every access\n"
        "unsafe impl Sync for Cache {}\n"
    )
    assert flagged(source) == []


def test_send_for_collections_of_send_data_needs_no_extra_reason() -> None:
    source = (
        "struct Batch { rows: Vec<Vec<f32>>, index: HashMap<String, usize> }\n"
        "// SAFETY: moving the batch moves its owned buffers\n"
        "unsafe impl Send for Batch {}\n"
    )
    assert flagged(source) == []


def test_send_for_rc_or_raw_pointer_needs_a_reason() -> None:
    source = (
        "struct Shared { inner: Rc<u32> }\n"
        "// SAFETY: moving it is fine\n"
        "unsafe impl Send for Shared {}\n"
        "struct Ptr { p: *mut u8 }\n"
        "// SAFETY: needed for the worker\n"
        "unsafe impl Send for Ptr {}\n"
    )
    diagnostics = check(source)
    assert [d.line for d in diagnostics] == [3, 6]
    assert "why sending `inner: Rc<u32>`" in diagnostics[0].message


def test_comment_over_send_and_sync_pair_is_judged_for_sync() -> None:
    source = (
        "struct Exec { kernels: HashMap<String, u32> }\n"
        "// SAFETY: Exec is Send+Sync; access to the map is synchronized\n"
        "unsafe impl Send for Exec {}\n"
        "unsafe impl Sync for Exec {}\n"
    )
    both = check(source, {RULE, "undocumented-unsafe-impl"})
    assert [(d.line, d.rule) for d in both] == [(4, "undocumented-unsafe-impl"), (4, RULE)]


def test_undocumented_impl_is_left_to_undocumented_unsafe_impl() -> None:
    assert flagged("struct S { m: HashMap<u8, u8> }\nunsafe impl Sync for S {}\n") == []


def test_struct_not_found_is_not_guessed_about() -> None:
    assert flagged("// SAFETY: protected by a lock\nunsafe impl Sync for Elsewhere {}\n") == []


def test_other_unsafe_traits_are_not_send_sync() -> None:
    source = "struct S { m: HashMap<u8, u8> }\n// SAFETY: it's fine\nunsafe impl bytemuck::Pod for S {}\n"
    assert flagged(source) == []


def test_generic_and_path_qualified_impls_resolve_the_struct() -> None:
    source = (
        "struct Buf<T> { data: Vec<T> }\n"
        "// SAFETY: access is synchronized\n"
        "unsafe impl<T: Send> std::marker::Sync for Buf<T> {}\n"
    )
    assert flagged(source) == [3]


def test_struct_defined_in_another_file_of_the_crate() -> None:
    result = check_path(CRATE / "src" / "lib.rs", "lib.rs", Settings(select=frozenset(RULES)))
    assert result.error is None
    path = CRATE / "src" / "lib.rs"
    want = expected(path, RULES)
    got = {(d.line, d.rule) for d in result.diagnostics}
    assert got == want, describe(path, want - got, got - want)
    assert str((CRATE / "src" / "other.rs").resolve()) in result.dependencies


def test_struct_in_another_file_is_unknown_without_the_crate() -> None:
    path = CRATE / "src" / "lib.rs"
    result = analyze(SourceText(path.read_bytes()), "lib.rs", Settings(select=frozenset({RULE})))
    assert result.diagnostics == []


def test_trailing_comment_on_send_line_keeps_the_pair_for_sync() -> None:
    from safety_ls.core.settings import Settings
    from safety_ls.core.source import SourceText
    from safety_ls.engine.analyze import analyze

    source = (
        "use std::collections::HashMap;\n"
        "pub struct Cache {\n"
        "    map: HashMap<String, u32>,\n"
        "}\n"
        "// SAFETY: access to the map goes through proper synchronization\n"
        "unsafe impl Send for Cache {} // ROCm-42\n"
        "unsafe impl Sync for Cache {}\n"
    )
    result = analyze(SourceText.from_text(source), "pair.rs", Settings(select=frozenset({"unjustified-send-sync"})))
    assert [(d.line, d.rule) for d in result.diagnostics] == [(7, "unjustified-send-sync")]


def test_reason_after_a_blank_comment_line_is_read() -> None:
    source = (
        "struct Handle { raw: *mut std::ffi::c_void }\n"
        "// SAFETY:\n"
        "//\n"
        "// NCCL communicators may be used from any host thread (NCCL docs)\n"
        "unsafe impl Sync for Handle {}\n"
    )
    assert flagged(source) == []
