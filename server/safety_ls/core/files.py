"""Writing a file in one step: a reader (a CI job, an editor, a compiler) sees the old file or the new one.

The temporary file that makes the step atomic is created with mode 0600; the
result gets the mode the user expects instead: an existing file keeps its own,
a new file gets what `open()` would give it under the user's umask.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from pathlib import Path

_UMASK_LOCK = threading.Lock()


def _current_umask() -> int:
    # The umask can only be read by setting it; the lock keeps two writers from
    # seeing each other's temporary value.
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_current_umask()


def write_bytes(path: Path, data: bytes) -> None:
    """Replace (or create) `path` with `data`; the directory must exist (OSError otherwise)."""
    directory = path.parent if str(path.parent) else Path(".")
    mode = _mode_for(path)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """`write_bytes` for UTF-8 text."""
    write_bytes(path, text.encode("utf-8"))
