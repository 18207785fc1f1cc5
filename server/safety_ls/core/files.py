"""The one way safety-ls writes a file: in one step, and never through a symlink out of the workspace.

A reader (a CI job, an editor) sees the old file or the new one, never half. The repository being
checked may be a stranger's: a committed symlink (`.safety-ls-cache -> /home/you`, a source file
pointing at `~/.bashrc`) must not turn a write into one outside it. So every write names the
workspace root it must stay inside; the real path (symlinks resolved) is checked against it, the
directory is opened with `O_NOFOLLOW` and the new content goes into a fresh file created there with
`O_EXCL | O_NOFOLLOW`, then renamed over the real target.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

CACHE_GITIGNORE = "# Created by safety-ls\n*\n"


class OutsideWorkspace(OSError):
    """A write that would land outside the workspace root (through a symlink or a `..` path)."""


def inside(path: Path, root: Path) -> bool:
    """Whether the real location of `path` lies under the real location of `root`."""
    real, base = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    return real == base or base in real.parents


def confined(path: Path, root: Path) -> Path:
    """The real path `path` names (symlinks resolved), if it is inside `root`; `OutsideWorkspace` if not."""
    real = Path(os.path.realpath(path))
    if not inside(real, root):
        raise OutsideWorkspace(f"{path} resolves to {real}, outside the workspace {root}; not written")
    return real


def make_directory(path: Path, root: Path) -> None:
    """Create `path` (and parents) inside `root`; an existing symlink on the way is refused, not followed."""
    relative = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(root)))
    if relative.parts[:1] == ("..",):
        raise OutsideWorkspace(f"{path} is outside the workspace {root}; not created")
    current = root
    for part in relative.parts:
        current = current / part
        try:
            status = os.lstat(current)
        except FileNotFoundError:
            os.mkdir(current)
            continue
        if stat.S_ISLNK(status.st_mode):
            raise OutsideWorkspace(f"{current} is a symlink; safety-ls does not write through it")
        if not stat.S_ISDIR(status.st_mode):
            raise NotADirectoryError(f"{current} is not a directory")


def write_bytes(path: Path, data: bytes, *, root: Path | None, durable: bool = False) -> Path:
    """Replace (or create) the file `path` names with `data`; returns the path written.

    With `root`, the real target must lie inside it (a symlinked file is written through only then).
    Without `root` (a path the user typed, such as `--output`), a symlink at `path` is replaced,
    never written through. The directory must exist. `durable` syncs the data before the rename.
    """
    if root is not None:
        target = confined(path, root)
    else:
        target = Path(os.path.abspath(path))
    directory = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        try:
            existing = os.stat(target.name, dir_fd=directory, follow_symlinks=False)
            mode: int | None = stat.S_IMODE(existing.st_mode) if stat.S_ISREG(existing.st_mode) else None
        except FileNotFoundError:
            mode = None  # a new file: the umask decides, as for any file the user creates
        temporary = f".{target.name}.{os.urandom(6).hex()}.safety-ls"
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=directory)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                if durable:
                    os.fsync(stream.fileno())
                if mode is not None:
                    os.fchmod(stream.fileno(), mode)  # a fixed file keeps its permissions
            os.replace(temporary, target.name, src_dir_fd=directory, dst_dir_fd=directory)
        except BaseException:
            try:
                os.unlink(temporary, dir_fd=directory)
            except OSError:
                pass
            raise
    finally:
        os.close(directory)
    return target


def write_text(path: Path, text: str, *, root: Path | None) -> Path:
    return write_bytes(path, text.encode("utf-8"), root=root)


def prepare_cache_directory(directory: Path, root: Path) -> None:
    """Create safety-ls's cache directory under `root` with its `.gitignore`; a symlinked one is refused."""
    make_directory(directory, root)
    # root=None: a committed `.gitignore -> ../../victim` is replaced, not written through.
    write_text(directory / ".gitignore", CACHE_GITIGNORE, root=None)
