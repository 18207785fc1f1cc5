"""The pre-commit hook, run by the real pre-commit.

* ``pre-commit try-repo`` against a committed snapshot of this project (what a
  user's ``repo: https://...`` entry installs: pre-commit builds a virtualenv and
  pip-installs the project into it; needs the package index for the build
  dependencies and safety-ls's own dependencies);
* the offline form the README documents: ``repo: local`` / ``language: system``
  with the ``safety-ls`` of the environment running the tests.

try-repo on the checkout itself would use HEAD plus changes to tracked files
only, so a new untracked module would be missing; the snapshot (see
project_snapshot.py) is the working tree as it is, and equals HEAD on a clean
CI checkout.  try-repo keeps its environments in a temporary store of its own,
so each try-repo run below builds one (~15 s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from project_snapshot import git_env, init_repo, snapshot

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

RAW_UNDOCUMENTED = """\
/// Reads the first byte.
pub fn first(bytes: &[u8]) -> u8 {
    assert!(!bytes.is_empty());
    unsafe { *bytes.get_unchecked(0) }
}
"""

RAW_DOCUMENTED = """\
/// Reads the first byte.
pub fn first(bytes: &[u8]) -> u8 {
    assert!(!bytes.is_empty());
    // SAFETY: `bytes` is not empty (asserted above), so index 0 is in bounds.
    unsafe { *bytes.get_unchecked(0) }
}
"""

LIB = """\
//! A tiny crate for the pre-commit tests.
pub mod raw;

/// Adds two numbers.
pub fn add(a: u32, b: u32) -> u32 {
    a.wrapping_add(b)
}
"""

FINDING = "src/raw.rs:4:5: undocumented-unsafe-block"

LOCAL_CONFIG = textwrap.dedent("""\
    repos:
      - repo: local
        hooks:
          - id: safety-ls
            name: safety-ls
            entry: safety-ls check
            language: system
            types: [rust]
""")


def _require_pre_commit() -> None:
    try:
        import pre_commit  # noqa: F401
    except ImportError:  # a missing test dependency is a failure, not a skip
        pytest.fail("pre-commit is not installed in the test environment (pip install -e '.[test]')")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed git snapshot of this project, holding .pre-commit-hooks.yaml."""
    _require_pre_commit()
    repo = snapshot(tmp_path_factory.mktemp("hook-repo") / "safety-ls")
    assert (repo / ".pre-commit-hooks.yaml").is_file(), "the project has no .pre-commit-hooks.yaml"
    return init_repo(repo)


@pytest.fixture
def crate_repo(tmp_path: Path) -> Path:
    """A git repository with a small crate: src/raw.rs has an undocumented unsafe block."""
    repo = tmp_path / "crate"
    (repo / "src").mkdir(parents=True)
    (repo / "Cargo.toml").write_text('[package]\nname = "tiny"\nversion = "0.1.0"\nedition = "2021"\n')
    (repo / "src" / "lib.rs").write_text(LIB)
    (repo / "src" / "raw.rs").write_text(RAW_UNDOCUMENTED)
    (repo / "NOTES.txt").write_text("not Rust: unsafe { } here is never checked\n")
    return init_repo(repo)


def _pre_commit(*args: str, cwd: Path, home: Path, path_prefix: str | None = None) -> subprocess.CompletedProcess:
    env = git_env(PRE_COMMIT_HOME=str(home), NO_COLOR="1")
    for var in ("SKIP", "PRE_COMMIT_COLOR", "PRE_COMMIT_ALLOW_NO_CONFIG", "PYTHONPATH"):
        env.pop(var, None)
    if path_prefix:
        env["PATH"] = path_prefix + os.pathsep + env.get("PATH", "")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args, "--color", "never"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )


def _output(proc: subprocess.CompletedProcess) -> str:
    return f"exit code {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


def _assert_fails_on_raw(proc: subprocess.CompletedProcess) -> None:
    out = _output(proc)
    assert proc.returncode == 1, out
    assert "Failed" in proc.stdout, out
    assert FINDING in proc.stdout, out
    assert "src/lib.rs" not in proc.stdout, out  # the clean file is checked but not reported
    assert "NOTES.txt" not in proc.stdout, out


def _fix_raw(repo: Path) -> None:
    (repo / "src" / "raw.rs").write_text(RAW_DOCUMENTED)
    subprocess.run(["git", "add", "src/raw.rs"], cwd=repo, env=git_env(), check=True)


def test_try_repo_fails_then_passes(hook_repo: Path, crate_repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "pre-commit-home"
    args = ("try-repo", str(hook_repo), "safety-ls", "--all-files")

    first = _pre_commit(*args, cwd=crate_repo, home=home)
    _assert_fails_on_raw(first)
    assert "- hook id: safety-ls" in first.stdout, _output(first)

    _fix_raw(crate_repo)
    second = _pre_commit(*args, cwd=crate_repo, home=home)
    assert second.returncode == 0, _output(second)
    assert "Passed" in second.stdout, _output(second)
    assert "undocumented-unsafe-block" not in second.stdout, _output(second)


def test_local_system_hook_fails_then_passes(crate_repo: Path, tmp_path: Path) -> None:
    _require_pre_commit()
    scripts = sysconfig.get_path("scripts")
    exe = "safety-ls.exe" if os.name == "nt" else "safety-ls"
    assert Path(scripts, exe).is_file(), f"no {exe} console script in {scripts}: install the project into this environment"
    (crate_repo / ".pre-commit-config.yaml").write_text(LOCAL_CONFIG)
    subprocess.run(["git", "add", ".pre-commit-config.yaml"], cwd=crate_repo, env=git_env(), check=True)
    home = tmp_path / "pre-commit-home"

    first = _pre_commit("run", "--all-files", cwd=crate_repo, home=home, path_prefix=scripts)
    _assert_fails_on_raw(first)

    _fix_raw(crate_repo)
    second = _pre_commit("run", "--all-files", cwd=crate_repo, home=home, path_prefix=scripts)
    assert second.returncode == 0, _output(second)
    assert "Passed" in second.stdout, _output(second)


def _local_hook(repo: Path, args: list[str]) -> str:
    """The offline hook of the README with `args`, committed with the crate; the PATH prefix to run it."""
    _require_pre_commit()
    config = LOCAL_CONFIG + (f"        args: [{', '.join(args)}]\n" if args else "")
    (repo / ".pre-commit-config.yaml").write_text(config)
    subprocess.run(["git", "add", ".pre-commit-config.yaml"], cwd=repo, env=git_env(), check=True)
    return sysconfig.get_path("scripts")


def test_hints_and_info_are_shown_but_do_not_block_a_commit(crate_repo: Path, tmp_path: Path) -> None:
    (crate_repo / "safety-ls.toml").write_text('[severity]\nundocumented-unsafe-block = "hint"\n')
    subprocess.run(["git", "add", "safety-ls.toml"], cwd=crate_repo, env=git_env(), check=True)
    scripts = _local_hook(crate_repo, [])
    done = _pre_commit("run", "--all-files", "--verbose", cwd=crate_repo, home=tmp_path / "home", path_prefix=scripts)
    assert done.returncode == 0, _output(done)
    assert "Passed" in done.stdout and FINDING in done.stdout, _output(done)
    blocking = _local_hook(crate_repo, ["--fail-on", "hint"])
    done = _pre_commit("run", "--all-files", cwd=crate_repo, home=tmp_path / "home", path_prefix=blocking)
    assert done.returncode == 1 and FINDING in done.stdout, _output(done)


def test_a_baseline_in_pre_commit_judges_only_the_staged_files(crate_repo: Path, tmp_path: Path) -> None:
    (crate_repo / "src" / "other.rs").write_text("pub fn second(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n")
    recorded = subprocess.run(
        [Path(sysconfig.get_path("scripts"), "safety-ls"), "check", "--no-cache", "--write-baseline", "safety-baseline.json", "src"],
        cwd=crate_repo, capture_output=True, text=True, check=True,
    )
    assert recorded.stdout == "Recorded 2 findings from 2 of 3 checked file(s) in safety-baseline.json.\n"
    scripts = _local_hook(crate_repo, ["--baseline", "safety-baseline.json"])
    subprocess.run(["git", "add", "."], cwd=crate_repo, env=git_env(), check=True)
    subprocess.run(["git", "commit", "-qm", "baseline"], cwd=crate_repo, env=git_env(), check=True)
    # Touch one file: pre-commit passes only it; the other file's recorded finding is not "gone".
    (crate_repo / "src" / "other.rs").write_text("// The second reader.\n" + (crate_repo / "src" / "other.rs").read_text())
    subprocess.run(["git", "add", "src/other.rs"], cwd=crate_repo, env=git_env(), check=True)
    done = _pre_commit("run", "--verbose", cwd=crate_repo, home=tmp_path / "home", path_prefix=scripts)
    assert done.returncode == 0, _output(done)
    assert "1 known finding in the 1 checked file(s) not shown" in done.stdout, _output(done)
    assert "no longer" not in done.stdout, _output(done)
