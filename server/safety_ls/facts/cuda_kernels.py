"""`extern "C" __global__` kernels of a workspace's `.cu`/`.cuh` files: name, parameters, launch bounds.

Read with regular expressions over the text with comments blanked (CUDA C++ is
not parsed): a kernel launched by name from Rust is `extern "C"`, either on
its own declaration or inside an `extern "C" { .. }` block. Templates and
C++-mangled kernels cannot be launched by a plain name, so they are skipped.
The index of a workspace is kept while no `.cu`/`.cuh` file or directory in
it changes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from safety_ls.facts.launches import split_top_level

CUDA_SUFFIXES = (".cu", ".cuh")
MAX_CUDA_FILE_BYTES = 2 * 1024 * 1024
MAX_CUDA_FILES = 5000
_SKIPPED_DIRECTORIES = ("target", "node_modules", "build", "__pycache__")

_COMMENT = re.compile(rb"//[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(rb'"(?:[^"\\\n]|\\.)*"')
_GLOBAL = re.compile(rb"\b__global__\b")
_EXTERN_C = re.compile(rb'\bextern\s+"C"\s*')
_EXTERN_C_BLOCK = re.compile(rb'\bextern\s+"C"\s*\{')
_DECLARATION = re.compile(
    rb"\s*(?:(?:static|inline|__inline__|__forceinline__|__noinline__|void)\s+|__launch_bounds__\s*\((?P<bounds>[^()]*(?:\([^()]*\)[^()]*)*)\)\s*)*"
    rb"(?P<name>[A-Za-z_]\w*)\s*\("
)
_BOUNDS = re.compile(rb"__launch_bounds__\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
_DEFINE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+\(?[ \t]*(\d+)[uUlL]*[ \t]*\)?[ \t]*$", re.M)


@dataclass(frozen=True)
class KernelDefinition:
    name: str
    parameters: tuple[str, ...]
    max_threads: int | None  # __launch_bounds__'s first argument, when it is a known number
    path: str
    line: int  # 1-based line of the name


def _blank(match: re.Match[bytes]) -> bytes:
    """Spaces for the matched text, newlines kept, so offsets and lines stay where they were."""
    return re.sub(rb"[^\n]", b" ", match.group(0))


def _without_comments(data: bytes) -> bytes:
    """Comments blanked; strings are matched too (a `//` inside one is not a comment) but kept."""
    pieces, position = [], 0
    for match in re.finditer(_COMMENT.pattern + b"|" + _STRING.pattern, data, re.S):
        pieces.append(data[position : match.start()])
        pieces.append(_blank(match) if match.group(0)[:1] == b"/" else match.group(0))
        position = match.end()
    pieces.append(data[position:])
    return b"".join(pieces)


def _closing(data: bytes, opening: int) -> int:
    """The offset of the bracket closing the one at `opening` (`(` or `{`), or -1."""
    pair = {b"(": b")", b"{": b"}"}[data[opening : opening + 1]]
    depth = 0
    for index in range(opening, len(data)):
        char = data[index : index + 1]
        if char == data[opening : opening + 1]:
            depth += 1
        elif char == pair:
            depth -= 1
            if depth == 0:
                return index
    return -1


def _extern_c_blocks(data: bytes) -> list[tuple[int, int]]:
    blocks = []
    for match in _EXTERN_C_BLOCK.finditer(data):
        closing = _closing(data, match.end() - 1)
        blocks.append((match.end(), closing if closing >= 0 else len(data)))
    return blocks


def _parameters(text: str) -> tuple[str, ...]:
    items = [" ".join(item.split()) for item in split_top_level(text)]
    return () if items == ["void"] else tuple(items)


def kernels_in_source(data: bytes, path: str) -> list[KernelDefinition]:
    """The `extern "C" __global__` kernels defined or declared in one CUDA source."""
    text = _without_comments(data)
    defines = {name.decode(): int(value) for name, value in _DEFINE.findall(text)}
    blocks = _extern_c_blocks(text)
    found = []
    for match in _GLOBAL.finditer(text):
        statement_start = max(text.rfind(b";", 0, match.start()), text.rfind(b"}", 0, match.start()), text.rfind(b"{", 0, match.start()))
        prefix = text[statement_start + 1 : match.start()]
        in_block = any(start <= match.start() < end for start, end in blocks)
        if not (in_block or _EXTERN_C.search(prefix)) or b"template" in prefix:
            continue
        declaration = _DECLARATION.match(text, match.end())
        if declaration is None:
            continue
        opening = declaration.end() - 1
        closing = _closing(text, opening)
        if closing < 0:
            continue
        parameters = _parameters(text[opening + 1 : closing].decode("utf-8", "replace"))
        bounds = declaration.group("bounds")
        if bounds is None and (before := _BOUNDS.search(prefix)):  # `__launch_bounds__(N) __global__ void k(`
            bounds = before.group(1)
        max_threads = None
        if bounds is not None:
            first = bounds.decode("utf-8", "replace").split(",")[0].strip().strip("()").rstrip("uUlL")
            max_threads = int(first) if first.isdigit() else defines.get(first)
        name = declaration.group("name").decode()
        line = text.count(b"\n", 0, declaration.start("name")) + 1
        found.append(KernelDefinition(name, parameters, max_threads, path, line))
    return found


# --- the workspace's index ------------------------------------------------------------------

_Stamp = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class KernelIndex:
    kernels: dict[str, list[KernelDefinition]]  # by name (a name may be defined in several files)
    watched: tuple[str, ...]  # the files and directories whose change can change `kernels`


_indexes: dict[Path, tuple[_Stamp, KernelIndex]] = {}


def _scan(root: Path) -> tuple[_Stamp, list[Path]]:
    """CUDA files under `root` and a stamp of them and of every directory walked (a new file changes one)."""
    stamp: list[tuple[str, int, int]] = []
    files: list[Path] = []
    pending = [root]
    while pending and len(files) < MAX_CUDA_FILES:
        directory = pending.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
            status = directory.stat()
        except OSError:
            continue
        stamp.append((str(directory), status.st_mtime_ns, 0))
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith(".") and entry.name not in _SKIPPED_DIRECTORIES:
                        pending.append(Path(entry.path))
                elif entry.name.endswith(CUDA_SUFFIXES):
                    info = entry.stat()
                    stamp.append((entry.path, info.st_mtime_ns, info.st_size))
                    files.append(Path(entry.path))
            except OSError:
                continue
    return tuple(stamp), files


def workspace_kernels(root: Path) -> KernelIndex:
    """Every `extern "C"` kernel under `root`; re-read only when a CUDA file or a directory changed."""
    stamp, files = _scan(root)
    cached = _indexes.get(root)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    kernels: dict[str, list[KernelDefinition]] = {}
    for path in files:
        try:
            if path.stat().st_size > MAX_CUDA_FILE_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        for kernel in kernels_in_source(data, str(path)):
            kernels.setdefault(kernel.name, []).append(kernel)
    index = KernelIndex(kernels, tuple(path for path, _, _ in stamp))
    _indexes[root] = (stamp, index)
    return index


def workspace_root(crate_dir: Path) -> Path:
    """The Cargo workspace around a crate (kernels often live in a sibling crate), else the crate."""
    for directory in [crate_dir, *crate_dir.parents]:
        manifest = directory / "Cargo.toml"
        try:
            if manifest.is_file() and re.search(rb"^\s*\[workspace\]", manifest.read_bytes(), re.M):
                return directory
        except OSError:
            continue
        if (directory / ".git").exists():
            break
    return crate_dir
