"""`fix`, then clippy 1.95, on real crates (Debian's librust-*-dev sources): what the fix covers holds.

For each crate, a copy is fixed and then judged by clippy (tests/support/clippy_oracle.py, offline
against the Debian registry) with `undocumented_unsafe_blocks` and `missing_safety_doc` on, where
`-A` / `#[allow]` cannot hide them (`--force-warn`): the crate must still build, clippy must report
nothing that the fix's comments and docs should have covered, and every file `rustfmt --check`
passed before must still pass. A crate that is not installed, or a machine without clippy, skips.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import clippy_oracle
import pytest
from cli_runner import run_cli

REGISTRY = Path(clippy_oracle.DEBIAN_REGISTRY)
# Small crates that build in seconds, with unsafe blocks, unsafe fns and unsafe impls between them.
CRATES = ["memmap2-0.5.7", "smallvec-1.9.0", "arrayvec-0.7.2", "bumpalo-3.12.0"]


def _has_clippy() -> bool:
    if shutil.which("cargo") is None:
        return False
    done = subprocess.run(["cargo", "clippy", "--version"], capture_output=True, text=True)
    return done.returncode == 0


def _rustfmt_clean(files: list[Path]) -> set[Path]:
    clean = set()
    for path in files:
        data = path.read_bytes()
        done = subprocess.run(
            ["rustfmt", "--edition", "2021", "--emit", "stdout"], input=data, capture_output=True, cwd=path.parent
        )
        if done.returncode == 0 and done.stdout == data:
            clean.add(path)
    return clean


@pytest.mark.skipif(not _has_clippy(), reason="cargo clippy is not installed")
@pytest.mark.parametrize("crate", CRATES)
def test_clippy_finds_nothing_the_fix_should_have_covered(tmp_path: Path, crate: str) -> None:
    source = REGISTRY / crate
    if not source.is_dir():
        pytest.skip(f"{crate} is not installed (scripts/install-corpus.sh)")
    copy = tmp_path / crate
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("target"))
    for path in (copy, *copy.rglob("*")):  # Debian's files are read-only
        path.chmod(path.stat().st_mode | 0o200)
    files = sorted((copy / "src").rglob("*.rs"))
    clean_before = _rustfmt_clean(files) if shutil.which("rustfmt") else set()
    done = run_cli("fix", "src", cwd=copy)
    assert done.returncode in (0, 1), done.stderr
    result = clippy_oracle.check_crate(copy, target_dir=str(tmp_path / "target"), features_mode="default")
    assert result["error"] is None, result["error"]
    left = [
        f"{entry['path']}:{entry['line']} {entry['lint']}"
        for entry in result["clippy"] + result["clippy_allowed"]
        if not entry["in_macro"]  # generated items: the fix has no line of its own to write on
    ]
    assert left == [], left
    assert clean_before - _rustfmt_clean(files) == set()


# Docs a `# Safety` section is added to (or completed in) where a heading written the plain way
# would not count: after a code block left open, and among lines that share a deeper indentation.
AWKWARD_DOCS = '''\
/// Reads one byte.
///
/// ```
/// let byte = unsafe { read_open(&1) };
pub unsafe fn read_open(p: *const u8) -> u8 {
    *p
}

/// Reads one byte.
///
/// ````
/// ```
pub unsafe fn read_long_fence(p: *const u8) -> u8 {
    *p
}

///     # Safety
///
///     `p` points to a live byte.
pub unsafe fn read_indented(p: *const u8) -> u8 {
    *p
}
'''


@pytest.mark.skipif(not _has_clippy(), reason="cargo clippy is not installed")
def test_clippy_accepts_the_safety_docs_the_fix_writes_into_awkward_docs(tmp_path: Path) -> None:
    crate = tmp_path / "awkward"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "awkward"\nversion = "0.1.0"\nedition = "2021"\n')
    (crate / "src" / "lib.rs").write_text(AWKWARD_DOCS)
    done = run_cli("fix", "--profile", "structured", "src", cwd=crate)
    assert done.returncode in (0, 1), done.stderr
    result = clippy_oracle.check_crate(crate, target_dir=str(tmp_path / "target"), features_mode="default")
    assert result["error"] is None, result["error"]
    assert [f"{entry['line']} {entry['lint']}" for entry in result["clippy"] + result["clippy_allowed"]] == []
