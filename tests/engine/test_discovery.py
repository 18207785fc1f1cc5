"""The walk of a cached run: answered from the last walk while no directory or ignore file changed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from safety_ls.engine import discovery
from safety_ls.engine.discovery import Walks, rust_files


def _tree(root: Path) -> None:
    (root / ".git").mkdir()
    (root / "src" / "deep").mkdir(parents=True)
    (root / "src" / "a.rs").write_text("fn a() {}\n", encoding="utf-8")
    (root / "src" / "deep" / "b.rs").write_text("fn b() {}\n", encoding="utf-8")
    (root / ".gitignore").write_text("generated/\n", encoding="utf-8")


def _listed(root: Path, walks: Walks) -> list[str]:
    return [str(path.relative_to(root)) for path in rust_files([root], walks=walks)]


@pytest.fixture
def counted_walks(monkeypatch):
    calls = []
    walk = os.walk
    monkeypatch.setattr(discovery.os, "walk", lambda *args, **kwargs: calls.append(args[0]) or walk(*args, **kwargs))
    return calls


def test_an_unchanged_tree_is_not_walked_again(tmp_path: Path, counted_walks: list) -> None:
    _tree(tmp_path)
    walks = Walks({}, time.time_ns() + 10**9)  # as if the record were written after every stat
    first = _listed(tmp_path, walks)
    assert first == ["src/a.rs", "src/deep/b.rs"] and len(counted_walks) == 1
    assert _listed(tmp_path, Walks(walks.records, walks.trusted_before)) == first
    assert len(counted_walks) == 1


@pytest.mark.parametrize("change", ["new file", "removed file", "renamed file", "ignore file edited", "new ignore file", "new directory"])
def test_a_change_in_the_tree_is_walked_again(tmp_path: Path, change: str, counted_walks: list) -> None:
    _tree(tmp_path)
    _listed(tmp_path, walks := Walks({}, time.time_ns() + 10**9))
    time.sleep(0.01)  # a later stat than the one recorded
    if change == "new file":
        (tmp_path / "src" / "deep" / "c.rs").write_text("fn c() {}\n", encoding="utf-8")
    elif change == "removed file":
        (tmp_path / "src" / "deep" / "b.rs").unlink()
    elif change == "renamed file":
        (tmp_path / "src" / "deep" / "b.rs").rename(tmp_path / "src" / "deep" / "b.txt")
    elif change == "ignore file edited":
        (tmp_path / ".gitignore").write_text("generated/\ndeep/\n", encoding="utf-8")
    elif change == "new ignore file":
        (tmp_path / "src" / ".gitignore").write_text("a.rs\n", encoding="utf-8")
    else:
        (tmp_path / "src" / "new").mkdir()
        (tmp_path / "src" / "new" / "d.rs").write_text("fn d() {}\n", encoding="utf-8")
    expected = {
        "new file": ["src/a.rs", "src/deep/b.rs", "src/deep/c.rs"],
        "removed file": ["src/a.rs"],
        "renamed file": ["src/a.rs"],
        "ignore file edited": ["src/a.rs"],
        "new ignore file": ["src/deep/b.rs"],
        "new directory": ["src/a.rs", "src/deep/b.rs", "src/new/d.rs"],
    }[change]
    assert _listed(tmp_path, Walks(walks.records, time.time_ns() + 10**9)) == expected
    assert len(counted_walks) == 2


def test_a_record_as_new_as_the_tree_proves_nothing(tmp_path: Path, counted_walks: list) -> None:
    """Stats not older than the record's write time could hide a change within the timestamp resolution."""
    _tree(tmp_path)
    _listed(tmp_path, walks := Walks({}, 0))
    _listed(tmp_path, Walks(walks.records, 0))
    assert len(counted_walks) == 2


def test_a_damaged_record_is_walked_again(tmp_path: Path, counted_walks: list) -> None:
    _tree(tmp_path)
    records = {str(tmp_path): {"stamps": 3, "files": ["x"]}}
    assert _listed(tmp_path, Walks(records, time.time_ns() + 10**9)) == ["src/a.rs", "src/deep/b.rs"]
