"""Which of a workspace's C/C++/CUDA files can define something Rust links to, and which headers matter.

Only `extern "C"` functions can be named from Rust. A file can define one when
its own text says `extern "C"`, or when it includes (directly or through other
headers) a workspace header that does, through a macro
(`BINARY_OP(float, badd_f32, x + y)` with the macro in `binary_op_macros.cuh`).
Large template libraries vendored in a workspace (cutlass, flash-attention)
have neither, so they are neither read nor followed: preprocessing them costs
seconds per file and yields nothing linkable. A header without `extern "C"` is
still followed when it may define macros a signature uses: a `#define` in a
header that holds no templates.
"""

from __future__ import annotations

import re
from pathlib import Path

_EXTERN_C = re.compile(rb'extern\s+"C"')
_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)
_DEFINE = re.compile(rb"^[ \t]*#[ \t]*define\b", re.M)
_TEMPLATE = re.compile(rb"\btemplate\s*<")


def _included(data: bytes) -> list[str]:
    """The names of the quoted includes of a file, by their last path component."""
    return [Path(name.decode("utf-8", "replace")).name for name in _INCLUDE.findall(data)]


def linkage_files(contents: dict[Path, bytes], header_suffixes: tuple[str, ...]) -> tuple[list[Path], set[str]]:
    """(files to preprocess, absolute paths of the headers to follow when preprocessing them)."""
    headers = {path: data for path, data in contents.items() if path.name.endswith(header_suffixes)}
    linking = {path.name for path, data in headers.items() if _EXTERN_C.search(data)}
    changed = True
    while changed:  # a header including a linking header links too
        changed = False
        for path, data in headers.items():
            if path.name not in linking and any(name in linking for name in _included(data)):
                linking.add(path.name)
                changed = True
    follow = {
        str(path)
        for path, data in headers.items()
        if path.name in linking or (_DEFINE.search(data) and not _TEMPLATE.search(data))
    }
    selected = [
        path
        for path, data in contents.items()
        if _EXTERN_C.search(data) or any(name in linking for name in _included(data))
    ]
    return selected, follow
