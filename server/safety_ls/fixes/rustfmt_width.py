"""The line width rustfmt formats a file to: `max_width` from the nearest rustfmt.toml or .rustfmt.toml.

rustfmt looks in the file's directory and each parent; the first config
file found wins, and without one (or without `max_width` in it) lines are 100
columns wide.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

DEFAULT_MAX_WIDTH = 100
_CONFIG_NAMES = ("rustfmt.toml", ".rustfmt.toml")


def _width_in(directory: Path) -> int | None:
    """The width set by this directory's config: 0 when it has one without `max_width`, None without one."""
    for name in _CONFIG_NAMES:
        try:
            document = tomllib.loads((directory / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return 0  # rustfmt would refuse it; the default is the best guess
        width = document.get("max_width")
        return width if isinstance(width, int) and width > 0 else 0
    return None


def max_width(path: Path | None) -> int:
    if path is None:
        return DEFAULT_MAX_WIDTH
    for directory in path.resolve().parents:
        width = _width_in(directory)
        if width is not None:
            return width or DEFAULT_MAX_WIDTH
    return DEFAULT_MAX_WIDTH
