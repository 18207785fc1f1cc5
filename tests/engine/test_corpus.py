"""The checker over a large real corpus: Debian's crate sources (scripts/install-corpus.sh)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def _corpus_dirs() -> list[str]:
    done = subprocess.run([str(ROOT / "scripts/install-corpus.sh"), "--dirs"], capture_output=True, text=True)
    return done.stdout.split() if done.returncode == 0 else []


def test_whole_corpus_is_checked_without_internal_errors(tmp_path: Path) -> None:
    directories = _corpus_dirs()
    if not directories:
        pytest.skip("the Debian crate corpus is not installed (scripts/install-corpus.sh)")
    done = subprocess.run(
        [sys.executable, "-m", "safety_ls", "check", "--format", "json", "--no-cache", *directories],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr
    diagnostics = json.loads(done.stdout)["diagnostics"]
    rules = {d["rule"] for d in diagnostics}
    # Real code trips the SAFETY and CAST rules; every finding points into a checked file.
    assert {"undocumented-unsafe-block", "missing-cast", "missing-safety-doc"} <= rules
    assert all(Path(d["path"]).is_absolute() and Path(d["path"]).is_file() for d in diagnostics)


def test_profiles_run_over_the_corpus_without_internal_errors(tmp_path: Path) -> None:
    directories = _corpus_dirs()[:6]
    if not directories:
        pytest.skip("the Debian crate corpus is not installed (scripts/install-corpus.sh)")
    for profile in ("structured", "grit"):
        done = subprocess.run(
            [sys.executable, "-m", "safety_ls", "check", "--format", "json", "--no-cache", "--profile", profile, *directories],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert done.returncode in (0, 1), done.stderr[-3000:]
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr
