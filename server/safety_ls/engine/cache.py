"""Results cached by file content, settings and version, so unchanged files are not re-analysed.

One JSON document per workspace. A file's digests (of its bytes, of its module structure, of the
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
from typing import Any, Callable

from safety_ls import __version__
from safety_ls.core.files import prepare_cache_directory, write_text
from safety_ls.core.findings import Diagnostic, FileResult, Severity

CACHE_DIRECTORY = ".safety-ls-cache"
_FILE_NAME = "results-v2.json"


def content_key(*parts: str | bytes) -> str:
    digest = hashlib.blake2b(digest_size=20)
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _code_version() -> str:
    """The package version plus a stamp of its own source files, so a changed checker never reuses old results."""
    package = Path(__file__).parent.parent
    stamps = sorted(f"{p.relative_to(package)}:{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in package.rglob("*.py"))
    return content_key(__version__, *stamps)


# A diagnostic is stored as a row of its fields up to `end`, in Diagnostic's order: smaller to
# read back than objects with keys.
_ROW_LENGTH = 11
_SEVERITIES = {severity.value: severity for severity in Severity}


_ROW_FIELDS = tuple(field.name for field in dataclasses.fields(Diagnostic))[:_ROW_LENGTH]


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


def _stamp(path: str) -> list[int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return [status.st_mtime_ns, status.st_size]


def _frozen(stamps: dict[str, Any]) -> Any:
    """A dependency set as a dictionary key (stamps read back from JSON are lists)."""
    return tuple(sorted((path, tuple(stamp) if isinstance(stamp, list) else stamp) for path, stamp in stamps.items()))


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
        self.entries: dict[str, Any] = {}
        self.crates: dict[str, Any] = {}
        self.files: dict[str, Any] = {}  # absolute path -> [stat stamp..., digests...] (_FACTS)
        self.dependency_sets: list[dict[str, Any]] = []
        self.used: set[str] = set()
        self._used_files: dict[str, list[Any]] = {}
        self._checked: set[str] = set()  # the files this run looked up, as displayed
        self._stamps: dict[str, list[int] | None] = {}
        self._sets_unchanged: dict[int, bool] = {}
        self._set_numbers: dict[Any, int] = {}
        self._written = 0  # when the cache file was written (ns): only stats older than it are trusted
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
                document = json.loads(stream.read())
            if document.get("salt") == self.salt:
                parts = [document.get(name) for name in ("entries", "crates", "files", "dependency_sets")]
                # A cache file edited or damaged by hand is ignored, never a crash.
                if all(isinstance(part, dict) for part in parts[:3]) and isinstance(parts[3], list):
                    self.entries, self.crates, self.files, self.dependency_sets = parts
        except (OSError, ValueError, AttributeError):
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

    def _unchanged(self, dependency_set: int | None) -> bool:
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

    def _load(self, entry: Any) -> FileResult | None:
        if not self._unchanged(entry["dependencies"]):
            return None
        if not isinstance(entry["path"], str):
            raise TypeError("path")
        result = FileResult(entry["path"], warnings=list(entry["warnings"]))
        result.excerpts = dict(entry["excerpts"])
        if not all(type(line) is int for line in result.excerpts):
            raise TypeError("excerpt line")
        if entry["dependencies"] is not None:
            for path, stamp in self.dependency_sets[entry["dependencies"]].items():
                (result.kernel_source_dependencies if isinstance(stamp, str) else result.dependencies).append(path)
        result.diagnostics = [_diagnostic(row) for row in entry["diagnostics"]]
        return result

    def put(self, key: str, result: FileResult) -> None:
        if result.error is not None:
            return
        self.used.add(key)
        self.dirty = True
        self.entries[key] = {
            "path": result.path,
            "warnings": result.warnings,
            "excerpts": list(result.excerpts.items()),  # [line, text] pairs: JSON keys would be strings
            "dependencies": self._dependency_set(result.dependencies, result.kernel_source_dependencies),
            "diagnostics": [_row(d) for d in result.diagnostics],
        }

    def _dependency_set(self, paths: list[str], kernel_sources: list[str]) -> int | None:
        """The index of this set of dependencies with their stamps now, added if new."""
        if not paths and not kernel_sources:
            return None
        stamps: dict[str, Any] = {path: self._kernel_source(path) for path in kernel_sources}
        stamps.update((path, self._stamp(path)) for path in paths)
        if not self._set_numbers:
            self._set_numbers = {_frozen(known): index for index, known in enumerate(self.dependency_sets)}
        frozen = _frozen(stamps)
        if frozen not in self._set_numbers:
            self._set_numbers[frozen] = len(self.dependency_sets)
            self.dependency_sets.append(stamps)
        return self._set_numbers[frozen]

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

    def _kept(self, entry: Any) -> bool:
        """Whether an entry this run did not use still stands for a file: one this run did not check
        (a pre-commit run checks a few files and must not forget the others), that still exists."""
        if not isinstance(entry, dict) or not isinstance(path := entry.get("path"), str) or path in self._checked:
            return False
        dependencies = entry.get("dependencies")
        valid = dependencies is None or (type(dependencies) is int and 0 <= dependencies < len(self.dependency_sets))
        return valid and os.path.exists(path)

    def save(self) -> None:
        """Write the entries used by this run, and those of files it did not check (atomically);
        the stale ones of the files it checked, and of files gone, are dropped."""
        if self.directory is None:
            return
        entries = {key: entry for key, entry in self.entries.items() if key in self.used or self._kept(entry)}
        files = {path: stamp for path, stamp in self.files.items() if path not in self._used_files and os.path.exists(path)}
        files.update(self._used_files)
        if not self.dirty and len(entries) == len(self.entries) and len(files) == len(self.files):
            return
        # Only the dependency sets still referenced, renumbered.
        kept = sorted({entry["dependencies"] for entry in entries.values() if entry["dependencies"] is not None})
        renumbered = {old: new for new, old in enumerate(kept)}
        for key, entry in entries.items():
            if entry["dependencies"] is not None:
                entries[key] = {**entry, "dependencies": renumbered[entry["dependencies"]]}
        document = {
            "salt": self.salt,
            "entries": entries,
            "crates": self.crates,
            "files": files,
            "dependency_sets": [self.dependency_sets[old] for old in kept],
        }
        try:
            prepare_cache_directory(self.directory, self.directory.parent)
            write_text(self.directory / _FILE_NAME, json.dumps(document, separators=(",", ":")), root=self.directory)
        except OSError as error:
            # A read-only checkout still gets its results, just not cached; the caller says so.
            self.problem = f"results not cached: {error.strerror or error}"
