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
from pathlib import Path
from typing import Iterator

import pathspec

ALWAYS_SKIPPED = frozenset({"target", ".git", ".hg", ".svn", "node_modules", "__pycache__", ".safety-ls-cache"})


def _valid_pattern(line: str) -> bool:
    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except Exception:  # pathspec raises several types for a malformed pattern
        return False
    return True


def _gitignore_spec(directory: Path) -> pathspec.PathSpec | None:
    lines: list[str] = []
    for name in (".gitignore", ".git/info/exclude"):
        path = directory / name
        try:  # is_file raises too, for a path longer than the system accepts
            if path.is_file():
                lines.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())
        except OSError:
            continue
    # A pattern git cannot use (a lone `!`) matches nothing there either; it must not stop the check.
    lines = [line for line in lines if _valid_pattern(line)]
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def _repository_root(start: Path) -> Path | None:
    for candidate in [start, *start.parents]:
        if (candidate / ".git").exists():
            return candidate
    return None


def rust_files(
    paths: list[Path],
    exclude: tuple[str, ...] = (),
    exclude_root: Path | None = None,
    problems: list[tuple[Path, str]] | None = None,
) -> Iterator[Path]:
    """Rust files under `paths`, in a stable order, each once; directories that could not be
    listed are appended to `problems` as (path, reason)."""
    excluded = pathspec.GitIgnoreSpec.from_lines(exclude) if exclude else None
    seen: set[Path] = set()
    for given in paths:
        if given.is_file() or (given.is_symlink() and not given.is_dir()):
            resolved = Path(os.path.realpath(given))  # realpath, unlike resolve(), accepts a loop
            if resolved not in seen:
                seen.add(resolved)
                yield given
            continue
        for found in _walk(given.resolve(), excluded, exclude_root, problems):
            if found not in seen:
                seen.add(found)
                yield found


def _walk(
    top: Path, excluded: pathspec.PathSpec | None, exclude_root: Path | None, problems: list[tuple[Path, str]] | None
) -> Iterator[Path]:
    def unlisted(error: OSError) -> None:
        if problems is not None:
            problems.append((Path(error.filename), f"directory not checked: {error.strerror or error}"))

    # Ignore files from the repository root down to `top` apply too.
    stack_specs: list[tuple[Path, pathspec.PathSpec]] = []
    repository = _repository_root(top)
    if repository is not None:
        for ancestor in reversed(top.parents):
            if (ancestor == repository or repository in ancestor.parents) and (spec := _gitignore_spec(ancestor)):
                stack_specs.append((ancestor, spec))
    # Strings, not Paths, below: the walk visits every directory and file of the tree.
    string_specs = [(str(base), spec) for base, spec in stack_specs]
    root = str(exclude_root) if excluded is not None and exclude_root is not None else None
    for directory, subdirectories, files in os.walk(top, onerror=unlisted):
        specs = [(base, spec) for base, spec in string_specs if _within(directory, base)]
        own = _gitignore_spec(Path(directory))
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
