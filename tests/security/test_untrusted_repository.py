"""A stranger's repository cannot make safety-ls write outside it.

Each test builds a malicious repository in a temporary directory beside a victim folder, runs the
real CLI inside the repository, and requires every victim file to stay byte-identical.
"""

from __future__ import annotations

import os
from pathlib import Path

from cli_runner import run_cli

UNDOCUMENTED = "pub fn read(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
ALLOCATION = (
    "use cudarc::driver::CudaDevice;\n"
    "pub fn make(dev: &CudaDevice, n: usize) -> Result<(), ()> {\n"
    "    let buffer = unsafe { dev.alloc::<f32>(n) }?;\n"
    "    Ok(())\n"
    "}\n"
)


def _victims(tmp_path: Path) -> dict[Path, bytes]:
    outside = tmp_path / "victim"
    outside.mkdir()
    files = {outside / "notes.txt": b"precious\n", outside / "gpu.rs": b"// outside the repository\n"}
    for path, data in files.items():
        path.write_bytes(data)
    return files


def _unchanged(victims: dict[Path, bytes]) -> None:
    for path, data in victims.items():
        assert path.read_bytes() == data, f"{path} was written"
    assert sorted(p.name for p in next(iter(victims)).parent.iterdir()) == sorted(p.name for p in victims)


def _repository(tmp_path: Path, sources: dict[str, str], config: str = "") -> Path:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    # cudarc 0.16 (its `CudaDevice`): the allocation wrapper is written against the crate's real types.
    (repo / "Cargo.toml").write_text(
        '[package]\nname = "repo"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\ncudarc = "0.16"\n'
    )
    (repo / "safety-ls.toml").write_text(config)
    for name, text in sources.items():
        (repo / "src" / name).write_text(text)
    return repo


def test_check_replaces_a_committed_cache_gitignore_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    victims = _victims(tmp_path)
    repo = _repository(tmp_path, {"lib.rs": UNDOCUMENTED})
    (repo / ".safety-ls-cache").mkdir()
    (repo / ".safety-ls-cache" / ".gitignore").symlink_to(Path("../../victim/notes.txt"))
    done = run_cli("check", "src", cwd=repo)
    assert done.returncode == 1, done.stderr
    _unchanged(victims)
    gitignore = repo / ".safety-ls-cache" / ".gitignore"
    assert not gitignore.is_symlink() and gitignore.read_text().startswith("# Created by safety-ls")


def test_check_refuses_a_symlinked_cache_directory_and_says_so(tmp_path: Path) -> None:
    victims = _victims(tmp_path)
    repo = _repository(tmp_path, {"lib.rs": UNDOCUMENTED})
    (repo / ".safety-ls-cache").symlink_to(tmp_path / "victim", target_is_directory=True)
    done = run_cli("check", "src", cwd=repo)
    assert done.returncode == 1, done.stderr
    assert "is a symlink; results are not cached" in done.stderr
    _unchanged(victims)


def test_fix_does_not_add_the_wrapper_to_a_path_module_outside_the_repository(tmp_path: Path) -> None:
    victims = _victims(tmp_path)
    repo = _repository(
        tmp_path,
        {"lib.rs": '#[path = "../../victim/gpu.rs"]\npub mod gpu;\npub mod a;\n', "a.rs": ALLOCATION},
        config='alloc-wrapper-module = "gpu"\n',
    )
    done = run_cli("fix", "src", cwd=repo)
    _unchanged(victims)
    assert "outside the workspace" in done.stderr
    assert "fn alloc_device_buffer" in (repo / "src" / "lib.rs").read_text(), "the wrapper goes to the crate root instead"
    assert "alloc_device_buffer::<f32>(&dev, n)" in (repo / "src" / "a.rs").read_text()


def test_fix_does_not_write_through_a_source_symlink_that_leaves_the_repository(tmp_path: Path) -> None:
    victims = _victims(tmp_path)
    outside_source = tmp_path / "victim" / "lib.rs"
    outside_source.write_text(UNDOCUMENTED)
    victims[outside_source] = outside_source.read_bytes()
    repo = _repository(tmp_path, {})
    (repo / "src" / "lib.rs").symlink_to(outside_source)
    done = run_cli("fix", "src", cwd=repo)
    assert done.returncode == 2
    assert "outside the workspace" in done.stderr
    _unchanged(victims)
    assert (repo / "src" / "lib.rs").is_symlink(), "the symlink is left as it was, not replaced by a file"


def test_fix_edits_a_symlinked_source_through_its_target_inside_the_repository(tmp_path: Path) -> None:
    repo = _repository(tmp_path, {"real.rs": UNDOCUMENTED})
    (repo / "src" / "lib.rs").symlink_to("real.rs")
    done = run_cli("fix", "src/lib.rs", cwd=repo)
    assert done.returncode in (0, 1), done.stderr
    assert (repo / "src" / "lib.rs").is_symlink()
    assert "SAFETY" in (repo / "src" / "real.rs").read_text()


def test_write_baseline_replaces_a_symlink_at_the_named_path(tmp_path: Path) -> None:
    victims = _victims(tmp_path)
    repo = _repository(tmp_path, {"lib.rs": UNDOCUMENTED})
    (repo / "baseline.json").symlink_to(tmp_path / "victim" / "notes.txt")
    done = run_cli("check", "--no-cache", "--write-baseline", "baseline.json", "src", cwd=repo)
    assert done.returncode == 0, done.stderr
    _unchanged(victims)
    assert not (repo / "baseline.json").is_symlink() and '"findings"' in (repo / "baseline.json").read_text()


def test_fix_keeps_a_fixed_files_permissions(tmp_path: Path) -> None:
    repo = _repository(tmp_path, {"lib.rs": UNDOCUMENTED})
    os.chmod(repo / "src" / "lib.rs", 0o640)
    run_cli("fix", "src", cwd=repo)
    assert "SAFETY" in (repo / "src" / "lib.rs").read_text()
    assert (repo / "src" / "lib.rs").stat().st_mode & 0o777 == 0o640
