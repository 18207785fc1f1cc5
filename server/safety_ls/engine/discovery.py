"""Which files `check` reads: Rust sources under the given paths, minus ignored ones.

Directory walks honour every `.gitignore` on the way down (and the
repository's `.git/info/exclude`), skip `target/` and hidden directories,
and apply the config's `exclude` globs. A file named explicitly on the
command line is always checked, as ruff and rustfmt do. A broken symlink (dangling
or a loop) is yielded like any file, so that reading it fails as that file's
error while the rest is checked; a directory that cannot be listed is reported
through `problems`, never skipped in silence.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Protocol


class IgnoreRules(Protocol):
    """Compiled .gitignore-style patterns (pathspec's, imported only when a walk has patterns to
    apply: a check answered from remembered walks never pays for its import)."""

    def match_file(self, file: str) -> bool: ...


def _ignore_rules(lines: list[str] | tuple[str, ...]) -> IgnoreRules:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)

ALWAYS_SKIPPED = frozenset({"target", ".git", ".hg", ".svn", "node_modules", "__pycache__", ".safety-ls-cache"})


def _valid_pattern(line: str) -> bool:
    try:
        _ignore_rules([line])
    except Exception:  # pathspec raises several types for a malformed pattern
        return False
    return True


def _gitignore_spec(directory: Path, read: list[str] | None = None) -> IgnoreRules | None:
    """The ignore rules written in `directory`; the files they came from are added to `read`."""
    lines: list[str] = []
    for name in (".gitignore", ".git/info/exclude"):
        path = directory / name
        try:  # is_file raises too, for a path longer than the system accepts
            if path.is_file():
                lines.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())
                if read is not None:
                    read.append(str(path))
        except OSError:
            continue
    # A pattern git cannot use (a lone `!`) matches nothing there either; it must not stop the check.
    lines = [line for line in lines if _valid_pattern(line)]
    return _ignore_rules(lines) if lines else None


def _repository_root(start: Path) -> Path | None:
    for candidate in [start, *start.parents]:
        if (candidate / ".git").exists():
            return candidate
    return None


@dataclass
class Walks:
    """The walks of earlier runs (kept with the result cache), by top directory. A walk is answered
    from its record while every directory it listed, every ancestor and every ignore file it read
    keep their stat: adding, removing or renaming a file changes its directory's mtime. A stat not
    older than `trusted_before` (when the record was written) proves nothing (git's racily-clean
    rule: two changes within the file system's timestamp resolution look the same)."""

    records: dict[str, Any]
    trusted_before: int
    changed: bool = False

    def files(self, top: str) -> list[str] | None:
        record = self.records.get(top)
        try:
            if all(self._holds(path, stamp) for path, stamp in record["stamps"].items()):
                found = record["files"]
                if all(isinstance(path, str) for path in found):
                    return found
        except (TypeError, KeyError, AttributeError):
            pass  # none recorded, or a damaged record: walk again
        return None

    def remember(self, top: str, stamped: list[str], files: list[str]) -> None:
        self.records[top] = {"stamps": {path: _stat(path) for path in stamped}, "files": files}
        self.changed = True

    def _holds(self, path: str, stamp: Any) -> bool:
        now = _stat(path)
        return now == stamp and (now == "missing" or max(now[0], now[1]) < self.trusted_before)


def _stat(path: str) -> list[int] | str:
    try:
        status = os.stat(path)
    except OSError:
        return "missing"
    return [status.st_mtime_ns, status.st_ctime_ns, status.st_size]


def rust_files(
    paths: list[Path],
    exclude: tuple[str, ...] = (),
    exclude_root: Path | None = None,
    problems: list[tuple[Path, str]] | None = None,
    walks: Walks | None = None,
) -> Iterator[Path]:
    """Rust files under `paths`, in a stable order, each once; directories that could not be
    listed are appended to `problems` as (path, reason). With `walks`, a directory whose earlier
    walk still holds is not walked again, and each walk made is recorded there."""
    excluded = _ignore_rules(exclude) if exclude else None
    seen: set[Path] = set()
    for given in paths:
        if given.is_file() or (given.is_symlink() and not given.is_dir()):
            resolved = Path(os.path.realpath(given))  # realpath, unlike resolve(), accepts a loop
            if resolved not in seen:
                seen.add(resolved)
                yield given
            continue
        for found in _walk_or_recall(given.resolve(), excluded, exclude_root, problems, walks):
            if found not in seen:
                seen.add(found)
                yield found


def _walk_or_recall(
    top: Path, excluded: IgnoreRules | None, exclude_root: Path | None, problems: list[tuple[Path, str]] | None, walks: Walks | None
) -> list[Path]:
    recalled = walks.files(str(top)) if walks is not None else None
    if recalled is not None:
        return [Path(path) for path in recalled]
    unlisted: list[tuple[Path, str]] = []
    # The directories above, up to the repository's root: a `.git` or `.gitignore` added there
    # changes which rules apply.
    repository = _repository_root(top)
    stamped = [str(ancestor) for ancestor in top.parents if repository is None or repository in (ancestor, *ancestor.parents)]
    found = list(_walk(top, repository, excluded, exclude_root, unlisted, stamped))
    if problems is not None:
        problems.extend(unlisted)
    if walks is not None and not unlisted:
        walks.remember(str(top), stamped, [str(path) for path in found])
    return found


def _walk(
    top: Path,
    repository: Path | None,
    excluded: IgnoreRules | None,
    exclude_root: Path | None,
    problems: list[tuple[Path, str]],
    stamped: list[str],
) -> Iterator[Path]:
    """Rust files under `top` (in `repository`, if any); the directories listed and the ignore
    files read are added to `stamped`."""

    def unlisted(error: OSError) -> None:
        problems.append((Path(error.filename), f"directory not checked: {error.strerror or error}"))

    # Ignore files from the repository root down to `top` apply too.
    stack_specs: list[tuple[Path, IgnoreRules]] = []
    if repository is not None:
        for ancestor in reversed(top.parents):
            if (ancestor == repository or repository in ancestor.parents) and (spec := _gitignore_spec(ancestor, stamped)):
                stack_specs.append((ancestor, spec))
    # Strings, not Paths, below: the walk visits every directory and file of the tree.
    string_specs = [(str(base), spec) for base, spec in stack_specs]
    root = str(exclude_root) if excluded is not None and exclude_root is not None else None
    for directory, subdirectories, files in os.walk(top, onerror=unlisted):
        stamped.append(directory)
        specs = [(base, spec) for base, spec in string_specs if _within(directory, base)]
        own = _gitignore_spec(Path(directory), stamped)
        if own is not None:
            string_specs.append((directory, own))
            specs.append((directory, own))

        def ignored(path: str, is_dir: bool) -> bool:
            suffix = "/" if is_dir else ""
            for base, spec in specs:
                if spec.match_file(_relative(path, base) + suffix):
                    return True
            if root is not None and excluded is not None:
                return _within(path, root) and excluded.match_file(_relative(path, root) + suffix)
            return False

        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if name not in ALWAYS_SKIPPED and not name.startswith(".") and not ignored(os.path.join(directory, name), True)
        )
        for name in sorted(files):
            if name.endswith(".rs") and not ignored(path := os.path.join(directory, name), False):
                yield Path(path)


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory if directory.endswith(os.sep) else directory + os.sep)


def _relative(path: str, base: str) -> str:
    """`path` below `base` (a directory above it or itself), with `/` separators."""
    return path[len(base) :].lstrip(os.sep).replace(os.sep, "/") if path != base else "."
