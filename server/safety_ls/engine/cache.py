"""Results cached by file content, settings and version, so unchanged files are not re-analysed.

One file per workspace: the settings' salt, a JSON header (crates, file digests, dependency sets),
then one line per file's results, read only when that file is looked up and written back as it
was read unless it changed (a pre-commit run over one file neither decodes nor encodes the
others). A file's digests (of its bytes, of its module structure, of the
kernel source in its strings) are remembered with its stat (mtime, ctime, size, inode: ctime
cannot be set back by a tool that restores mtimes), so a file whose stat is unchanged is not read
again, unless its stat is not older than the cache file (an edit within the file system's
timestamp resolution would look unchanged: git's "racily clean" case). The files a
result depends on besides its own (every CUDA source of the workspace, for a file with kernel
launches) are stored once per distinct set and their stamps compared once per run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterator

from safety_ls import __version__
from safety_ls.core.files import prepare_cache_directory, write_bytes
from safety_ls.core.findings import Diagnostic, FileResult, Severity
from safety_ls.engine.discovery import Walks

CACHE_DIRECTORY = ".safety-ls-cache"
_FILE_NAME = "results-v3.jsonl"


def content_key(*parts: str | bytes) -> str:
    digest = hashlib.blake2b(digest_size=20)
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _code_version() -> str:
    """The package version plus a stamp of its own source files, so a changed checker never reuses old results."""
    package = str(Path(__file__).parent.parent)
    stamps: list[str] = []
    directories = [package]
    while directories:  # os.scandir rather than Path.rglob: every run pays for this walk
        with os.scandir(directories.pop()) as entries:
            for entry in entries:
                if entry.name.endswith(".py") and entry.is_file():
                    status = entry.stat()
                    stamps.append(f"{os.path.relpath(entry.path, package)}:{status.st_mtime_ns}:{status.st_size}")
                elif entry.is_dir() and entry.name != "__pycache__":
                    directories.append(entry.path)
    return content_key(__version__, *sorted(stamps))


# A diagnostic is stored as a row of its fields up to `end`, in Diagnostic's order: smaller to
# read back than objects with keys.
_ROW_LENGTH = 11
_ROW_FIELDS = tuple(field.name for field in dataclasses.fields(Diagnostic))[:_ROW_LENGTH]
_SEVERITIES = {severity.value: severity for severity in Severity}


def _diagnostic(row: list[Any]) -> Diagnostic:
    """A stored row as a Diagnostic, its fields set directly: a frozen dataclass's `__init__` sets
    each through `object.__setattr__`, three times slower, and a cached run rebuilds thousands."""
    if len(row) != _ROW_LENGTH:
        raise ValueError("diagnostic")
    diagnostic = object.__new__(Diagnostic)
    diagnostic.__dict__.update(zip(_ROW_FIELDS, row), severity=_SEVERITIES[row[2]], data={}, fix=None)
    return diagnostic


def _row(diagnostic: Diagnostic) -> list[Any]:
    row = [getattr(diagnostic, name) for name in _ROW_FIELDS]
    row[2] = diagnostic.severity.value
    return row


# A file's stored results: the id of its dependency set (or None), its path as displayed, and its
# line in the cache file, whose JSON after the tab is decoded only when looked up (and which is
# written back as it was read: a pre-commit run over one file re-encodes none of the others).
_Stored = tuple[str | None, str, bytes]


def _json(value: Any) -> bytes:
    # ASCII: a path that is not valid UTF-8 keeps its escaped surrogates; never a raw line break.
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def _stored_entries(lines: list[bytes]) -> Iterator[tuple[str, _Stored]]:
    """The entry lines of a cache file; a damaged line is skipped (its file is analysed again)."""
    for line in lines:
        tab = line.find(b"\t")
        try:
            key, dependency_set, path = json.loads(line[:tab]) if tab > 0 else None
        except (TypeError, ValueError):
            continue
        if isinstance(key, str) and isinstance(path, str) and (dependency_set is None or isinstance(dependency_set, str)):
            yield key, (dependency_set, path, line)


def _stamp(path: str) -> list[int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return [status.st_mtime_ns, status.st_size]


def _file_stamp(status: os.stat_result) -> list[int]:
    return [status.st_mtime_ns, status.st_ctime_ns, status.st_size, status.st_ino]


# What is remembered per file: its stamp, then the digests of its bytes, of its module structure
# and of the kernel source in its string literals (each None until asked for).
_CONTENT, _STRUCTURE, _KERNEL_SOURCE, _FACTS = 4, 5, 6, 7


def _kernel_source_digest(data: bytes) -> str:
    # Imported here: only a Rust file changed since the last run is read for kernel source.
    from safety_ls.facts.nvrtc_sources import kernel_literals_digest

    return kernel_literals_digest(data)


class ResultCache:
    def __init__(self, directory: Path, settings_fingerprint: str) -> None:
        """`directory` is `<workspace root>/.safety-ls-cache`; nothing is written outside that root."""
        self.directory: Path | None = directory
        self.code_version = _code_version()
        self.salt = content_key(self.code_version, settings_fingerprint)
        self.entries: dict[str, _Stored] = {}
        self.crates: dict[str, Any] = {}
        self.files: dict[str, Any] = {}  # absolute path -> [stat stamp..., digests...] (_FACTS)
        self.dependency_sets: dict[str, dict[str, Any]] = {}  # id -> {path: stamp}
        self.used: set[str] = set()
        self._used_files: dict[str, list[Any]] = {}
        self._checked: set[str] = set()  # the files this run looked up, as displayed
        self._stamps: dict[str, list[int] | None] = {}
        self._sets_unchanged: dict[str, bool] = {}
        self._written = 0  # when the cache file was written (ns): only stats older than it are trusted
        self.walks = Walks({}, 0)  # the directory walks of earlier runs (engine/discovery.py)
        self.dirty = False
        self.problem: str | None = None  # why the results could not be saved, for the caller to report
        if directory.is_symlink():
            # A cloned repository's symlink must not redirect what safety-ls reads or writes.
            self.problem = f"{directory} is a symlink; results are not cached"
            self.directory = None
            return
        try:
            with open(directory / _FILE_NAME, "rb") as stream:
                self._written = os.fstat(stream.fileno()).st_mtime_ns
                lines = stream.read().split(b"\n")
            if lines[0] == self.salt.encode():
                header = json.loads(lines[1])
                parts = [header.get(name) for name in ("crates", "files", "dependency_sets", "walks")]
                # A cache file edited or damaged by hand is ignored, never a crash.
                if all(isinstance(part, dict) for part in parts):
                    self.crates, self.files, self.dependency_sets, walks = parts
                    self.walks = Walks(walks, self._written)
                    self.entries = dict(_stored_entries(lines[2:]))
        except (OSError, ValueError, AttributeError, IndexError):
            pass

    def crate_states(self, crate_dir: str, stamp: str) -> dict[str, str]:
        """Per-file crate facts stored for this crate, if its files have not changed since."""
        stored = self.crates.get(crate_dir)
        if not isinstance(stored, dict) or stored.get("stamp") != stamp:
            return {}
        states = stored.get("states")
        if not isinstance(states, dict) or not all(isinstance(v, str) for v in states.values()):
            return {}  # a damaged entry: recompute
        return states

    def crate_index(self, crate_dir: str, stamp: str) -> Any:
        """The crate's module index as stored with its states (JSON values), if still current."""
        stored = self.crates.get(crate_dir)
        return stored.get("index") if isinstance(stored, dict) and stored.get("stamp") == stamp else None

    def store_crate_states(self, crate_dir: str, stamp: str, states: dict[str, str], index: Any) -> None:
        self.crates[crate_dir] = {"stamp": stamp, "states": states, "index": index}
        self.dirty = True

    def content_digest(self, path: Path) -> str | None:
        """A digest of the file's bytes: remembered while its stat is unchanged, else read and
        hashed; None when it cannot be read."""
        return self._file_fact(os.path.abspath(path), _CONTENT, None)

    def structure_digest(self, path: str, structure: Callable[[bytes], str]) -> str | None:
        """`structure(bytes)` of the file, remembered like its content digest."""
        return self._file_fact(os.path.abspath(path), _STRUCTURE, structure)

    def _file_fact(self, absolute: str, slot: int, compute: Callable[[bytes], str] | None) -> str | None:
        try:
            stamp = _file_stamp(os.stat(absolute))
            remembered = self._used_files.get(absolute)
            if remembered is None:
                stored = self.files.get(absolute)
                trusted = max(stamp[0], stamp[1]) < self._written
                valid = isinstance(stored, list) and len(stored) == _FACTS and stored[:_CONTENT] == stamp
                remembered = stored if trusted and valid else [*stamp] + [None] * (_FACTS - _CONTENT)
            if not isinstance(remembered[slot], str):
                data = Path(absolute).read_bytes()
                remembered = [*remembered]
                remembered[_CONTENT] = content_key(data)
                if compute is not None:
                    remembered[slot] = compute(data)
                self.dirty = True
        except OSError:
            return None
        self._used_files[absolute] = remembered
        return remembered[slot]

    def key(self, display: str, digest: str, crate_state: str) -> str:
        self._checked.add(display)
        return content_key(self.salt, display, digest, crate_state)

    def get(self, key: str) -> FileResult | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        try:
            result = self._load(entry)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            # A damaged entry is a miss; `put` replaces it after the file is analysed.
            del self.entries[key]
            self.dirty = True
            return None
        if result is not None:
            self.used.add(key)
        return result

    def _stamp(self, path: str) -> list[int] | None:
        """A dependency's stamp, read once per run: files with kernel launches all depend on every
        C/CUDA source and folder of their workspace (mistral.rs: 36,000 look-ups, 1,500 paths)."""
        if path not in self._stamps:
            self._stamps[path] = _stamp(path)
        return self._stamps[path]

    def _kernel_source(self, path: str) -> str | None:
        return self._file_fact(os.path.abspath(path), _KERNEL_SOURCE, _kernel_source_digest)

    def _unchanged(self, dependency_set: str | None) -> bool:
        """Whether every dependency of the set is as it was: a file by its stat, a Rust file the
        CUDA index reads by the kernel source in it (a stamp that is a digest)."""
        if dependency_set is None:
            return True
        if dependency_set not in self._sets_unchanged:
            stamps = self.dependency_sets[dependency_set]
            self._sets_unchanged[dependency_set] = all(
                (self._kernel_source(path) if isinstance(stamp, str) else self._stamp(path)) == stamp for path, stamp in stamps.items()
            )
        return self._sets_unchanged[dependency_set]

    def _load(self, stored: _Stored) -> FileResult | None:
        dependency_set, path, line = stored
        if not self._unchanged(dependency_set):
            return None
        entry = json.loads(line[line.index(b"\t") + 1 :])
        result = FileResult(path, warnings=list(entry["warnings"]))
        result.excerpts = dict(entry["excerpts"])
        if not set(map(type, result.excerpts)) <= {int}:  # map, not a generator: a cached run checks 40,000
            raise TypeError("excerpt line")
        if dependency_set is not None:
            for dependency, stamp in self.dependency_sets[dependency_set].items():
                (result.kernel_source_dependencies if isinstance(stamp, str) else result.dependencies).append(dependency)
        result.diagnostics = [_diagnostic(row) for row in entry["diagnostics"]]
        return result

    def put(self, key: str, result: FileResult) -> None:
        if result.error is not None:
            return
        self.used.add(key)
        self.dirty = True
        body = {
            "warnings": result.warnings,
            "excerpts": list(result.excerpts.items()),  # [line, text] pairs: JSON keys would be strings
            "diagnostics": [_row(d) for d in result.diagnostics],
        }
        dependency_set = self._dependency_set(result.dependencies, result.kernel_source_dependencies)
        self.entries[key] = (dependency_set, result.path, _json([key, dependency_set, result.path]) + b"\t" + _json(body))

    def _dependency_set(self, paths: list[str], kernel_sources: list[str]) -> str | None:
        """The id of this set of dependencies with their stamps now (a digest of them), added if new."""
        if not paths and not kernel_sources:
            return None
        stamps: dict[str, Any] = {path: self._kernel_source(path) for path in kernel_sources}
        stamps.update((path, self._stamp(path)) for path in paths)
        identity = content_key(repr(sorted(stamps.items())))
        self.dependency_sets.setdefault(identity, stamps)
        return identity

    def beside(self, name: str) -> Path | None:
        """Where another store may be kept beside the results (its directory now created), or None
        when results are not cached there."""
        if self.directory is None:
            return None
        try:
            prepare_cache_directory(self.directory, self.directory.parent)
        except OSError:
            return None  # `save` reports the same problem when it tries
        return self.directory / name

    def _kept(self, stored: _Stored) -> bool:
        """Whether an entry this run did not use still stands for a file: one this run did not check
        (a pre-commit run checks a few files and must not forget the others), that still exists."""
        dependency_set, path, _ = stored
        if path in self._checked or (dependency_set is not None and dependency_set not in self.dependency_sets):
            return False
        return os.path.exists(path)

    def save(self) -> None:
        """Write the entries used by this run, and those of files it did not check (atomically);
        the stale ones of the files it checked, and of files gone, are dropped."""
        if self.directory is None:
            return
        entries = {key: stored for key, stored in self.entries.items() if key in self.used or self._kept(stored)}
        files = {path: stamp for path, stamp in self.files.items() if path not in self._used_files and os.path.exists(path)}
        files.update(self._used_files)
        if not (self.dirty or self.walks.changed) and len(entries) == len(self.entries) and len(files) == len(self.files):
            return
        referenced = {dependency_set for dependency_set, _, _ in entries.values()}
        header = {
            "crates": self.crates,
            "files": files,
            "dependency_sets": {identity: stamps for identity, stamps in self.dependency_sets.items() if identity in referenced},
            "walks": self.walks.records,
        }
        lines = [self.salt.encode(), _json(header)]
        lines += [line for _, _, line in entries.values()]
        try:
            prepare_cache_directory(self.directory, self.directory.parent)
            write_bytes(self.directory / _FILE_NAME, b"\n".join(lines), root=self.directory)
            for older in self.directory.glob("results-v*"):  # what another format version left
                if older.name != _FILE_NAME and not older.is_dir():
                    older.unlink()
        except OSError as error:
            # A read-only checkout still gets its results, just not cached; the caller says so.
            self.problem = f"results not cached: {error.strerror or error}"
