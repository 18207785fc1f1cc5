"""Code rewritten by a fix, laid out by rustfmt itself when the file was rustfmt-clean before.

A rewritten allocation call is longer than the unsafe block it replaces, and
where rustfmt breaks a call depends on its width heuristics, not just
`max_width`. Rather than imitate them, the fixed text of a file that rustfmt
left unchanged is passed through rustfmt (from stdin: child modules are not
touched), with the crate's edition and the config rustfmt would find for
the file. Without rustfmt, or for a file that was not formatted to begin
with, the text stays as the fix wrote it.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

_TIMEOUT_SECONDS = 30


def _load(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def crate_edition(crate_dir: Path | None) -> str:
    """The `edition` cargo gives rustfmt for this crate (2015 when the manifest names none)."""
    if crate_dir is None:
        return "2021"
    package = _load(crate_dir / "Cargo.toml").get("package") or {}
    edition = package.get("edition") if isinstance(package, dict) else None
    if isinstance(edition, dict) and edition.get("workspace") is True:
        for directory in crate_dir.parents:
            workspace = _load(directory / "Cargo.toml").get("workspace")
            if isinstance(workspace, dict):
                shared = workspace.get("package") or {}
                edition = shared.get("edition") if isinstance(shared, dict) else None
                break
    return edition if isinstance(edition, str) else "2015"


def _rustfmt(rustfmt: str, data: bytes, edition: str, directory: Path) -> bytes | None:
    try:
        done = subprocess.run(
            [rustfmt, "--edition", edition, "--emit", "stdout"],
            input=data, capture_output=True, cwd=directory, timeout=_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def formatted_like_before(original: bytes, fixed: bytes, path: Path, crate_dir: Path | None) -> bytes:
    """`fixed` formatted by rustfmt, if rustfmt is installed and `original` was already formatted."""
    rustfmt = shutil.which("rustfmt")
    directory = path.resolve().parent
    if rustfmt is None or not directory.is_dir():
        return fixed
    edition = crate_edition(crate_dir)
    if _rustfmt(rustfmt, original, edition, directory) != original:
        return fixed
    return _rustfmt(rustfmt, fixed, edition, directory) or fixed
