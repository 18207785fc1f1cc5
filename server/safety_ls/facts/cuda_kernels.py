"""The workspace's CUDA index: every `extern "C"` kernel and host function its C/C++/CUDA sources define.

Sources are the `.cu`/`.cuh`/`.c`/`.cc`/`.cpp`/`.h`/`.hpp` files under the
workspace root and the CUDA held in Rust string literals for run-time
compilation (`compile_ptx(SRC)`, NVRTC). Each is preprocessed (macros
expanded, workspace headers followed: cuda_preprocess.py) and read with the C
grammar (c_functions.py). The index of a root is kept while no source or
directory changes (modification time and size), and each file's functions are
kept by its content and the content of the workspace's headers, so an edit is
always seen and an unchanged file is never read twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from safety_ls.core.context import FileContext
from safety_ls.core.crate_dirs import crate_dir_of
from safety_ls.core.files import write_bytes
from safety_ls.facts.c_functions import CFunction, CParameter, extern_c_functions
from safety_ls.facts.cuda_preprocess import Preprocessed, preprocess
from safety_ls.facts.cuda_sources import linkage_files
from safety_ls.facts.nvrtc_sources import cuda_in_rust

CUDA_SUFFIXES = (".cu", ".cuh")
C_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".h", ".hpp")
HEADER_SUFFIXES = (".cuh", ".h", ".hpp")
INDEXED_SUFFIXES = CUDA_SUFFIXES + C_SUFFIXES  # a change to one of these can change the index
# The same, as file-watcher globs for an editor (the language server registers them).
INDEXED_GLOBS = tuple(f"**/*{suffix}" for suffix in INDEXED_SUFFIXES)
MAX_SOURCE_BYTES = 2 * 1024 * 1024
MAX_SOURCE_FILES = 5000
_SKIPPED_DIRECTORIES = ("target", "node_modules", "build", "__pycache__")

# The old name: a kernel is a CFunction whose `kernel` is true.
KernelDefinition = CFunction


@dataclass(frozen=True)
class KernelIndex:
    kernels: dict[str, list[CFunction]]  # `__global__` kernels by name (a name may be defined in several files)
    host_functions: dict[str, list[CFunction]]  # other `extern "C"` functions with a body, by name
    warnings: tuple[str, ...]  # sources that did not preprocess cleanly
    # Each name written in such a source, with that source's first problem: a launch or declaration of
    # a name we could not find is worth a warning only when a troubled file mentions it.
    troubled: dict[str, str]
    watched: tuple[str, ...]  # the C/CUDA sources and directories whose change can change the index
    # The Rust files, which can change it only through the kernel source in their string literals.
    rust_sources: tuple[str, ...]


def kernels_in_source(data: bytes, path: str, include_dirs: tuple[Path, ...] = ()) -> list[CFunction]:
    """The `extern "C" __global__` kernels defined or declared in one CUDA source."""
    return [f for f in extern_c_functions(preprocess(data, path, include_dirs)) if f.kernel]


# --- the workspace's index ------------------------------------------------------------------

_Stamp = tuple[tuple[str, int, int], ...]
_indexes: dict[Path, tuple[_Stamp, KernelIndex]] = {}
_by_content: dict[tuple[str, str], tuple[list[CFunction], tuple[str, ...]]] = {}
# A workspace is walked again for changes at most this often (seconds): a check asks for the index
# once per file with a launch or an `extern "C"` block, and each walk of a large tree costs ~40 ms.
RESCAN_INTERVAL = 1.0
_last_scan: dict[Path, float] = {}
# Where the functions found per source content are kept between runs (preprocessing is the cost:
# ~15 s for mistral.rs's CUDA), and whether entries were added since they were read.
_disk: dict[str, Path | bool | str] = {}


def _scan(root: Path) -> tuple[_Stamp, list[Path], list[Path]]:
    """(stamp, C/CUDA sources, Rust files) under `root`; the stamp covers every directory walked."""
    stamp: list[tuple[str, int, int]] = []
    sources: list[Path] = []
    rust: list[Path] = []
    pending = [root]
    while pending and len(sources) < MAX_SOURCE_FILES:
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
                elif entry.name.endswith(CUDA_SUFFIXES + C_SUFFIXES + (".rs",)):
                    info = entry.stat()
                    if info.st_size > MAX_SOURCE_BYTES:
                        continue
                    stamp.append((entry.path, info.st_mtime_ns, info.st_size))
                    (rust if entry.name.endswith(".rs") else sources).append(Path(entry.path))
            except OSError:
                continue
    return tuple(stamp), sources, rust


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def keep_on_disk(path: Path, version: str) -> None:
    """Keep the functions found per source content in `path` (JSON) between runs, read when an
    index is first built (a run whose results all come from the cache never reads it).

    `version` names the code that found them: a store written by another version is not read
    (a better preprocessing must not be hidden by what an older one found), and is replaced.
    """
    _disk.update(path=path, dirty=False, version=version, unread=True)


def _read_store() -> None:
    path = _disk.get("path")
    if not isinstance(path, Path) or not _disk.pop("unread", False):
        return
    try:
        stored = json.loads(path.read_bytes())
        if stored.get("version") != _disk.get("version"):
            return
        for key, (functions, warnings) in stored["functions"].items():
            found = [CFunction(**{**f, "parameters": tuple(CParameter(**p) for p in f["parameters"])}) for f in functions]
            _by_content.setdefault(tuple(key.split("\0", 1)), (found, tuple(warnings)))  # type: ignore[arg-type]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return  # no store yet, or one we cannot read: it is rewritten after the next build


def save_to_disk() -> None:
    """Write the functions found since `keep_on_disk` read them (no-op without a store or news)."""
    path = _disk.get("path")
    if not isinstance(path, Path) or not _disk.get("dirty"):
        return
    functions = {"\0".join(key): ([asdict(f) for f in found], list(warnings)) for key, (found, warnings) in _by_content.items()}
    try:
        document = {"version": _disk.get("version"), "functions": functions}
        write_bytes(path, json.dumps(document, separators=(",", ":")).encode(), root=path.parent)
        _disk["dirty"] = False
    except OSError:
        pass  # a read-only cache directory costs the next run time, nothing else


def _functions(key: tuple[str, str], read: Callable[[], Preprocessed]) -> tuple[list[CFunction], tuple[str, ...]]:
    """The functions of one source, preprocessed and parsed only the first time its content is seen."""
    cached = _by_content.get(key)
    if cached is None:
        cached = _by_content[key] = _found_in(read())
        _disk["dirty"] = True
    return cached


_NAME = re.compile(rb"\b[A-Za-z_]\w*\b")


@dataclass(frozen=True)
class _Source:
    path: Path
    data: bytes
    key: tuple[str, str]  # (path, digest of its content and of the workspace's headers)
    follow: frozenset[str]  # the headers its preprocessing reads


def _keyed_sources(sources: list[Path]) -> list[_Source]:
    """The C/CUDA sources whose functions the index holds, each with the key its functions are kept by."""
    contents = {path: data for path in sources if (data := _read(path)) is not None}
    headers = hashlib.sha256()
    for path, data in sorted(contents.items()):
        if path.name.endswith(HEADER_SUFFIXES):
            headers.update(str(path).encode() + b"\0" + hashlib.sha256(data).digest())
    context = headers.hexdigest()
    selected, follow = linkage_files(contents, HEADER_SUFFIXES)
    followed = frozenset(follow)
    return [
        _Source(path, contents[path], (str(path), hashlib.sha256(contents[path]).hexdigest() + context), followed)
        for path in selected
    ]


def _preprocessed(source: _Source) -> Preprocessed:
    return preprocess(source.data, str(source.path), follow=source.follow.__contains__)


def _build(sources: list[Path], rust: list[Path], jobs: int) -> tuple[list[CFunction], list[str], dict[str, str]]:
    _read_store()
    functions: list[CFunction] = []
    warnings: list[str] = []
    troubled: dict[str, str] = {}
    keyed = _keyed_sources(sources)
    # Largest first: one long source started last (mistral.rs's mmvq_gguf.cu, 30% of the work)
    # would leave the other cores idle at the end.
    pending = sorted((source for source in keyed if source.key not in _by_content), key=lambda source: -len(source.data))
    if jobs > 1 and len(pending) > 1:
        import multiprocessing  # only a build with sources to preprocess starts workers
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            for source, found in zip(pending, pool.map(_functions_of, pending)):
                _by_content[source.key] = found
                _disk["dirty"] = True
    for source in keyed:
        found, problems = _functions(source.key, lambda: _preprocessed(source))
        functions.extend(found)
        warnings.extend(problems)
        for name in _NAME.findall(source.data) if problems else ():
            troubled.setdefault(name.decode(), problems[0])
    for path in rust:
        data = _read(path)
        if data is None or b"__global__" not in data:
            continue
        for unit in cuda_in_rust(data, str(path)):
            key = (f"{path}@{unit.origin(0)[1]}", hashlib.sha256(unit.text.encode()).hexdigest())
            found, problems = _functions(key, lambda: unit)
            functions.extend(found)
            warnings.extend(problems)
    return functions, warnings, troubled


def _found_in(unit: Preprocessed) -> tuple[list[CFunction], tuple[str, ...]]:
    return extern_c_functions(unit), unit.warnings


def _functions_of(source: _Source) -> tuple[list[CFunction], tuple[str, ...]]:
    """A worker's part of `prepare_indexes` (module level: sent to the worker by name)."""
    return _found_in(_preprocessed(source))


def workspace_kernels(root: Path, jobs: int = 1) -> KernelIndex:
    """The CUDA index of the workspace at `root`; rebuilt only when a source or a directory changed,
    its sources then preprocessed on `jobs` processes."""
    cached = _indexes.get(root)
    now = time.monotonic()
    if cached is not None and now - _last_scan.get(root, float("-inf")) < RESCAN_INTERVAL:
        return cached[1]
    stamp, sources, rust = _scan(root)
    _last_scan[root] = now
    if cached is not None and cached[0] == stamp:
        return cached[1]
    functions, warnings, troubled = _build(sources, rust, jobs)
    save_to_disk()
    kernels: dict[str, list[CFunction]] = {}
    host: dict[str, list[CFunction]] = {}
    seen: set[tuple[str, str, int]] = set()  # a header's functions come with every file including it
    for function in functions:
        if (function.name, function.path, function.line) in seen:
            continue
        seen.add((function.name, function.path, function.line))
        if function.kernel:
            kernels.setdefault(function.name, []).append(function)
        elif function.defined:
            host.setdefault(function.name, []).append(function)
    rust_sources = tuple(str(path) for path in rust)
    watched = tuple(path for path, _, _ in stamp if not path.endswith(".rs"))
    index = KernelIndex(kernels, host, tuple(dict.fromkeys(warnings)), troubled, watched, rust_sources)
    _indexes[root] = (stamp, index)
    return index


def source_changed(path: Path) -> None:
    """Forget the index of every workspace holding `path` (the language server calls this on a file event).

    The stamp sees most edits; an edit that keeps a file's size within the
    file system's time resolution would be missed without this.
    """
    resolved = path.resolve()
    for root in [root for root in _indexes if resolved.is_relative_to(root.resolve())]:
        del _indexes[root]
        _last_scan.pop(root, None)


def prepare_indexes(files: list[Path], jobs: int) -> None:
    """Build the index of every workspace holding `files` now, in this process, its sources
    preprocessed on `jobs` processes (preprocessing is most of a cold check of a CUDA crate).

    Called before work is forked: each worker then inherits the index instead of building its own.
    """
    roots = {workspace_root(crate_dir) for path in files if (crate_dir := crate_dir_of(path.resolve())) is not None}
    for root in sorted(roots):
        workspace_kernels(root, jobs)


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


def index_for(ctx: FileContext) -> tuple[KernelIndex, Path | None]:
    """The CUDA index of the workspace around the analysed file, and that workspace's root.

    The file's cached findings then depend on every C/C++/CUDA source (a changed or added `.cu`
    file invalidates them) and on the kernel source in every Rust file's string literals.
    """
    if ctx.crate is None:
        return KernelIndex({}, {}, (), {}, (), ()), None
    root = workspace_root(ctx.crate.root_dir)
    index = workspace_kernels(root)
    ctx.dependencies.update(index.watched)
    ctx.kernel_source_dependencies.update(index.rust_sources)
    return index, root


def note_unresolved(ctx: FileContext, index: KernelIndex, name: str) -> None:
    """Warn that `name` was not found when a source that mentions it did not preprocess cleanly."""
    problem = next((index.troubled[part] for part in name.split("|") if part in index.troubled), None)
    if problem is not None:
        ctx.warnings.append(f"`{name}` has no C/CUDA definition in the index; a source naming it did not preprocess cleanly: {problem}")


def analysed_file(ctx: FileContext) -> str | None:
    """The analysed file's path as shown (relative to where the run started, or absolute), when in a crate."""
    return ctx.path if ctx.crate is not None else None


def where(function: CFunction, root: Path | None) -> str:
    """`file:line` of a definition, relative to the workspace root when under it."""
    path = Path(function.path)
    if root is not None and path.is_relative_to(root):
        path = path.relative_to(root)
    return f"{path.as_posix()}:{function.line}"
