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


def test_a_remembered_digest_is_trusted_only_when_the_file_is_older_than_the_cache(tmp_path: Path, monkeypatch) -> None:
    """git's racily-clean rule: a file changed within the timestamp resolution of the cache's own
    write could keep its stat, so its bytes are read again rather than trusted."""
    import os
    import time

    source = tmp_path / "a.rs"
    source.write_text("fn a() {}\n", encoding="utf-8")
    cache = ResultCache(tmp_path / ".safety-ls-cache", "settings")
    cache.put(cache.key("a.rs", cache.content_digest(source) or "", "no-crate"), FileResult("a.rs"))
    time.sleep(0.05)  # the cache written a clock tick or more after the file
    cache.save()
    (cache_file,) = (tmp_path / ".safety-ls-cache").glob("results-*")
    reads = []
    read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda path: reads.append(path.name) or read_bytes(path))

    ResultCache(tmp_path / ".safety-ls-cache", "settings").content_digest(source)
    assert reads == []  # the file is older than the cache: its remembered digest stands
    written = source.stat().st_mtime_ns
    os.utime(cache_file, ns=(written, written))  # the cache as new as the file
    ResultCache(tmp_path / ".safety-ls-cache", "settings").content_digest(source)
    assert reads == ["a.rs"]
