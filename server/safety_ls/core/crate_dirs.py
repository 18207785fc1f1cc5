"""Which crate a file belongs to, and a stamp of the crate's files: what a cached check needs
to know about crates, without the module index of core/crate.py (and its parser)."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Callable


def crate_dir_of(path: Path) -> Path | None:
    """The nearest directory above `path` with a Cargo.toml (absolute paths are taken as resolved)."""
    return _crate_dir_above((path if path.is_absolute() else path.resolve()).parent)


def crate_stamp(crate_dir: Path, digest_of: Callable[[str], str | None]) -> str:
    """Changes whenever a Rust file or the manifest of the crate is added or removed, or
    `digest_of(path)` of one of them changes (the caller decides which edits matter)."""
    digest = hashlib.blake2b(digest_size=16)
    pending = [str(crate_dir)]
    while pending:
        directory = pending.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "target" and not entry.name.startswith("."):
                    pending.append(entry.path)
            elif entry.name.endswith(".rs") or entry.name == "Cargo.toml":
                digest.update(f"{entry.path}\0{digest_of(entry.path)}\n".encode())
    return digest.hexdigest()


@lru_cache(maxsize=1024)
def _crate_dir_above(directory: Path) -> Path | None:
    if (directory / "Cargo.toml").is_file():
        return directory
    return None if directory.parent == directory else _crate_dir_above(directory.parent)


def forget_crate_dirs() -> None:
    _crate_dir_above.cache_clear()
