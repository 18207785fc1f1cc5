"""`tests = false`: test targets and `#[cfg(test)]` / `#[test]` items are left out."""

from __future__ import annotations

from pathlib import Path

import pytest
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze, check_path

RULES = frozenset({"missing-cast", "undocumented-unsafe-block"})
SOURCE = (
    "fn lib(n: usize) -> u32 {\n"
    "    n as u32\n"
    "}\n"
    "#[cfg(test)]\n"
    "mod tests {\n"
    "    fn helper(n: usize) -> u32 { n as u32 }\n"
    "}\n"
    "#[test]\n"
    "fn loose_test() {\n"
    "    unsafe { g() };\n"
    "}\n"
)


def lines(settings: Settings, path: str = "src/lib.rs") -> list[int]:
    return [d.line for d in analyze(SourceText.from_text(SOURCE), path, settings).diagnostics]


def test_test_items_are_checked_by_default() -> None:
    assert lines(Settings(select=RULES)) == [2, 6, 10]


def test_tests_false_skips_cfg_test_and_test_items() -> None:
    assert lines(Settings(select=RULES, tests=False)) == [2]


@pytest.mark.parametrize("target", ["tests", "benches", "examples"])
def test_tests_false_skips_test_targets_of_a_package(tmp_path: Path, target: str) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "p"\nversion = "0.1.0"\n', encoding="utf-8")
    (tmp_path / target).mkdir()
    (tmp_path / "src").mkdir()
    for path in (tmp_path / target / "a.rs", tmp_path / "src" / "lib.rs"):
        path.write_text("fn f(n: usize) -> u32 { n as u32 }\n", encoding="utf-8")
    skipped = check_path(tmp_path / target / "a.rs", f"{target}/a.rs", Settings(select=RULES, tests=False))
    kept = check_path(tmp_path / "src" / "lib.rs", "src/lib.rs", Settings(select=RULES, tests=False))
    assert (skipped.diagnostics, [d.line for d in kept.diagnostics]) == ([], [1])


def test_a_module_named_tests_inside_src_is_not_a_test_target(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "p"\nversion = "0.1.0"\n', encoding="utf-8")
    (tmp_path / "src" / "tests").mkdir(parents=True)
    (tmp_path / "src" / "tests" / "mod.rs").write_text("fn f(n: usize) -> u32 { n as u32 }\n", encoding="utf-8")
    result = check_path(tmp_path / "src" / "tests" / "mod.rs", "src/tests/mod.rs", Settings(select=RULES, tests=False))
    assert [d.line for d in result.diagnostics] == [1]
