"""Copies of the project's source tree, for tests that build or install it.

A build straight from the checkout writes ``build/`` and ``*.egg-info`` into it
and can pick up stale files from an earlier build; ``pre-commit try-repo`` only
sees committed files plus changes to tracked files (untracked files are left
out).  Tests therefore work on a snapshot: every file git would ship
(tracked, plus untracked files that are not ignored), or, outside a git
checkout, the tree minus the usual build and cache directories.  On a clean
CI checkout the snapshot is exactly HEAD.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent

_SKIP_DIRS = {
    ".git", ".venv", "venv", "build", "dist", "__pycache__", ".pytest_cache",
    ".safety-ls-cache", "target", "node_modules", ".mypy_cache", ".ruff_cache",
}


def git_env(**extra: str) -> dict[str, str]:
    """The environment with every GIT_* variable removed (a test may run inside a git hook)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="safety-ls tests",
        GIT_AUTHOR_EMAIL="tests@safety-ls.invalid",
        GIT_COMMITTER_NAME="safety-ls tests",
        GIT_COMMITTER_EMAIL="tests@safety-ls.invalid",
        GIT_CONFIG_NOSYSTEM="1",
    )
    env.update(extra)
    return env


def _git_files(root: Path) -> list[str] | None:
    if shutil.which("git") is None or not (root / ".git").exists():
        return None
    proc = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, env=git_env(),
    )
    if proc.returncode != 0:
        return None
    return sorted({p for p in proc.stdout.decode().split("\0") if p})


def _walk_files(root: Path) -> list[str]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info")]
        for name in filenames:
            if not name.endswith((".pyc", ".pyo")):
                files.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(files)


def project_files(root: Path = PROJECT_ROOT) -> list[str]:
    """Relative paths of the project's source files (what a clean checkout holds)."""
    files = _git_files(root)
    if files is None:
        files = _walk_files(root)
    # tracked files deleted in the working tree are listed by git but are gone
    return [f for f in files if os.path.lexists(root / f)]


def snapshot(dest: Path, root: Path = PROJECT_ROOT) -> Path:
    """Copy the project's source files into ``dest`` (created); returns ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel in project_files(root):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target, follow_symlinks=False)
    return dest


def git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=git_env())
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def init_repo(path: Path, commit: bool = True) -> Path:
    """Make ``path`` a git repository holding (and, with ``commit``, committing) its files."""
    git("init", "-q", "-b", "main", ".", cwd=path)
    git("add", "-A", cwd=path)
    if commit:
        git("-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "snapshot", cwd=path)
    return path
