"""How `check` spreads files over worker processes."""

from __future__ import annotations

from pathlib import Path

from safety_ls.engine.workspace import BATCH_FILES, _batches_by_crate


def _crate(root: Path, files: int) -> list[tuple[Path, str]]:
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text('[package]\nname = "p"\nversion = "0.1.0"\n', encoding="utf-8")
    work = []
    for number in range(files):
        path = root / "src" / f"m{number}.rs"
        path.write_text("fn f() {}\n" * (number + 1), encoding="utf-8")
        work.append((path, str(path)))
    return work


def test_a_few_dozen_files_of_one_crate_are_shared_by_every_worker(tmp_path: Path) -> None:
    """After an edit that changes a crate's modules only its files are analysed again: one batch
    of them left every core but one idle."""
    batches = _batches_by_crate(_crate(tmp_path, 25), jobs=2)
    assert len(batches) >= 4
    assert sorted(position for batch in batches for position, _, _ in batch) == list(range(25))


def test_a_large_tree_keeps_each_crate_in_batches_of_the_full_size(tmp_path: Path) -> None:
    batches = _batches_by_crate(_crate(tmp_path, 4 * BATCH_FILES + 1), jobs=2)
    assert sorted(len(batch) for batch in batches) == [1, BATCH_FILES, BATCH_FILES, BATCH_FILES, BATCH_FILES]
