"""The result cache gives back exactly what was put in, across processes (its JSON document)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from safety_ls.core.findings import Diagnostic, FileResult, Severity
from safety_ls.engine.cache import ResultCache


def test_a_result_read_back_from_disk_equals_the_one_stored_field_by_field(tmp_path: Path) -> None:
    source = tmp_path / "a.rs"
    source.write_text("fn f(x: u64) -> u32 { x as u32 }\n", encoding="utf-8")
    diagnostics = [
        Diagnostic("a.rs", "missing-cast", Severity.WARNING, "`as u32` → ", 1, 23, 1, 31, True, 22, 30),
        Diagnostic("a.rs", "undocumented-unsafe-block", Severity.ERROR, "m", 2, 1, 3, 2, False, 40, 52),
    ]
    stored = FileResult("a.rs", diagnostics, warnings=["w"], excerpts={0: "fn f", 1: "}"}, dependencies=[str(source)])
    cache = ResultCache(tmp_path / ".safety-ls-cache", "settings")
    key = cache.key("a.rs", cache.content_digest(source) or "", "no-crate")
    cache.put(key, stored)
    cache.save()
    again = ResultCache(tmp_path / ".safety-ls-cache", "settings").get(key)
    assert again is not None
    for before, after in zip(stored.diagnostics, again.diagnostics, strict=True):
        assert dataclasses.asdict(after) == dataclasses.asdict(before)
        assert type(after.severity) is Severity and hash(after) == hash(before)
    assert (again.path, again.warnings, again.excerpts, again.dependencies) == ("a.rs", ["w"], {0: "fn f", 1: "}"}, [str(source)])
    # Other settings never see these results.
    assert ResultCache(tmp_path / ".safety-ls-cache", "other settings").get(key) is None
