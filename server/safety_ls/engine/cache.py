"""Results cached by file content, settings and version, so unchanged files are not re-analysed."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from safety_ls import __version__
from safety_ls.core.files import prepare_cache_directory, write_text
from safety_ls.core.findings import Diagnostic, Severity
from safety_ls.engine.analyze import FileResult

CACHE_DIRECTORY = ".safety-ls-cache"
_FILE_NAME = "results-v1.json"


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


def _stamp(path: str) -> list[int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return [status.st_mtime_ns, status.st_size]


class ResultCache:
    def __init__(self, directory: Path, settings_fingerprint: str) -> None:
        """`directory` is `<workspace root>/.safety-ls-cache`; nothing is written outside that root."""
        self.directory: Path | None = directory
        self.code_version = _code_version()
        self.salt = content_key(self.code_version, settings_fingerprint)
        self.entries: dict[str, Any] = {}
        self.crates: dict[str, Any] = {}
        self.used: set[str] = set()
        self._stamps: dict[str, list[int] | None] = {}
        self.dirty = False
        self.problem: str | None = None  # why the results could not be saved, for the caller to report
        if directory.is_symlink():
            # A cloned repository's symlink must not redirect what safety-ls reads or writes.
            self.problem = f"{directory} is a symlink; results are not cached"
            self.directory = None
            return
        try:
            document = json.loads((directory / _FILE_NAME).read_text(encoding="utf-8"))
            if document.get("salt") == self.salt:
                entries, crates = document.get("entries", {}), document.get("crates", {})
                # A cache file edited or damaged by hand is ignored, never a crash.
                if isinstance(entries, dict) and isinstance(crates, dict):
                    self.entries, self.crates = entries, crates
        except (OSError, ValueError, AttributeError):
            self.entries, self.crates = {}, {}

    def crate_states(self, crate_dir: str, stamp: str) -> dict[str, str]:
        """Per-file crate facts stored for this crate, if its files have not changed since."""
        stored = self.crates.get(crate_dir)
        if not isinstance(stored, dict) or stored.get("stamp") != stamp:
            return {}
        states = stored.get("states")
        if not isinstance(states, dict) or not all(isinstance(v, str) for v in states.values()):
            return {}  # a damaged entry: recompute
        return states

    def store_crate_states(self, crate_dir: str, stamp: str, states: dict[str, str]) -> None:
        self.crates[crate_dir] = {"stamp": stamp, "states": states}
        self.dirty = True

    def key(self, display: str, content: bytes, crate_state: str) -> str:
        return content_key(self.salt, display, content, crate_state)

    def get(self, key: str) -> FileResult | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        try:
            result = self._load(entry)
        except (KeyError, TypeError, ValueError, AttributeError):
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

    def _load(self, entry: Any) -> FileResult | None:
        if any(self._stamp(path) != stamp for path, stamp in entry["dependencies"].items()):
            return None
        if not isinstance(entry["path"], str):
            raise TypeError("path")
        result = FileResult(entry["path"], warnings=list(entry["warnings"]))
        result.excerpts = {int(line): text for line, text in entry["excerpts"].items()}
        result.dependencies = list(entry["dependencies"])
        for item in entry["diagnostics"]:
            result.diagnostics.append(Diagnostic(**{**item, "severity": Severity(item["severity"])}))
        return result

    def put(self, key: str, result: FileResult) -> None:
        if result.error is not None:
            return
        self.used.add(key)
        self.dirty = True
        self.entries[key] = {
            "path": result.path,
            "warnings": result.warnings,
            "excerpts": {str(line): text for line, text in result.excerpts.items()},
            "dependencies": {path: self._stamp(path) for path in result.dependencies},
            "diagnostics": [
                {**d.to_json(), "start": d.start, "end": d.end} for d in result.diagnostics
            ],
        }

    def save(self) -> None:
        """Write the entries used by this run (atomically); stale ones are dropped."""
        if self.directory is None or (not self.dirty and len(self.used) == len(self.entries)):
            return
        document = {
            "salt": self.salt,
            "entries": {key: self.entries[key] for key in self.used},
            "crates": self.crates,
        }
        try:
            prepare_cache_directory(self.directory, self.directory.parent)
            write_text(self.directory / _FILE_NAME, json.dumps(document, separators=(",", ":")), root=self.directory)
        except OSError as error:
            # A read-only checkout still gets its results, just not cached; the caller says so.
            self.problem = f"results not cached: {error.strerror or error}"
