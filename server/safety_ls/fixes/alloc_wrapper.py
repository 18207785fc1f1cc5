"""The checked device-allocation wrapper: rendering it, and placing it once per crate.

The wrapper goes where the crate already has one, else into the module
`alloc-wrapper-module` names, else into the crate root (which every module can
reach), before any `#[cfg(test)]` item and under the `#[cfg]` the crate's CUDA
dependency needs. Files that call it from elsewhere get a `use` line under the
same `#[cfg]`; calls inside `macro_rules!` bodies name it through `$crate::`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safety_ls.core.crate import crate_index
from safety_ls.core.files import inside
from safety_ls.core.fix_requests import WrapperTarget


def wrapper_context(target: WrapperTarget, max_width: int) -> dict[str, Any]:
    return {
        "name": target.name,
        "parameter": "stream" if "CudaStream" in target.receiver else "device",
        "receiver": target.receiver,
        "driver": target.driver,
        "candle": target.candle,
        "cfg": list(target.cfg),
        "max_width": max_width,
    }


_TOP_LEVEL_USE = re.compile(rb"^use\s[^;]*;[^\n]*\n?", re.M)
_FILE_PREAMBLE = re.compile(rb"\A(?:\xef\xbb\xbf)?(?:[ \t]*(?://![^\n]*|#!\[[^\n]*\]|)\r?\n)*")
_TEST_MODULE = re.compile(rb"^#\[cfg\(test\)\][ \t]*\r?\n", re.M)


def use_line(path: str, target: WrapperTarget, newline: str) -> str:
    """The `use` line for the wrapper, under its `#[cfg]`."""
    attributes = "".join(f"#[cfg({predicate})]{newline}" for predicate in target.cfg)
    return f"{attributes}use {path};{newline}"


def use_insertion(data: bytes, text: str, newline: str) -> tuple[int, str]:
    """Where a new top-level `use` goes, and the text to insert there.

    After the last top-level `use`, as a group of its own (a blank line
    before it), so rustfmt has nothing to reorder; with no `use` yet, after
    the file's inner docs and attributes.
    """
    uses = list(_TOP_LEVEL_USE.finditer(data))
    if uses:
        end = uses[-1].end()
        lead = "" if data[:end].endswith(b"\n") else newline
        return end, f"{lead}{newline}{text}"
    preamble = _FILE_PREAMBLE.match(data)
    offset = preamble.end() if preamble else 0
    return offset, text + (newline if offset < len(data) and data[offset:offset + 1] not in (b"\r", b"\n") else "")


def wrapper_insertion(data: bytes, wrapper: str, newline: str) -> tuple[int, str]:
    """Where the wrapper goes in its home file, and the text to insert: before the first top-level
    `#[cfg(test)]` item, else at the end, a blank line apart from what is around it."""
    test_module = _TEST_MODULE.search(data)
    if test_module is not None:
        return test_module.start(), wrapper + newline
    if not data:
        return 0, wrapper
    lead = "" if data.endswith(b"\n") else newline
    return len(data), f"{lead}{newline}{wrapper}"


@dataclass
class WrapperHome:
    file: Path
    module: tuple[str, ...]
    exists: bool  # already written (before this run, or earlier in it)

    def path_of(self, name: str, root: str = "crate") -> str:
        return "::".join((root,) + self.module + (name,))


@dataclass
class WrapperPlan:
    """Where each crate's wrappers are, or are being added, during one fix run."""

    configured_module: str | None = None  # e.g. "gpu::alloc" (alloc-wrapper-module)
    # Files outside this folder (the crate's, when unset) never receive the wrapper: a `#[path]`
    # module can point anywhere, and a cloned repository must not make `fix` write outside it.
    workspace: Path | None = None
    notes: list[str] = field(default_factory=list)  # why a configured home was passed over
    homes: dict[tuple[str, str], WrapperHome] = field(default_factory=dict)
    # Wrappers to add to files other than the one being fixed (the crate root, the configured module).
    pending: dict[Path, list[str]] = field(default_factory=dict)

    def home(self, crate_dir: Path | None, current: Path, name: str) -> WrapperHome:
        key = (str(crate_dir), name)
        if key not in self.homes:
            self.homes[key] = _existing_wrapper(crate_dir, current, name) or self._new_home(crate_dir, current)
        return self.homes[key]

    def _new_home(self, crate_dir: Path | None, current: Path) -> WrapperHome:
        index = crate_index(crate_dir) if crate_dir is not None else None
        if index is not None and self.configured_module:
            wanted = tuple(part for part in self.configured_module.removeprefix("crate::").split("::") if part)
            configured = next((path for path, module in index.module_paths.items() if module == wanted), None)
            if configured is not None:
                if self._may_write(configured, crate_dir):
                    return WrapperHome(configured, wanted, exists=False)
                self.notes.append(
                    f"the wrapper was not added to module `{self.configured_module}`: its file {configured} "
                    "is outside the workspace; it was added to the crate root instead"
                )
        if (
            index is not None
            and index.root_files
            and current.resolve() in index.module_paths
            and self._may_write(index.root_files[0], crate_dir)
        ):
            # The crate root: every module reaches `crate::name`, and no unrelated module is imported.
            return WrapperHome(index.root_files[0], (), exists=False)
        return WrapperHome(current.resolve(), (), exists=False)

    def _may_write(self, file: Path, crate_dir: Path | None) -> bool:
        boundary = self.workspace or crate_dir
        return boundary is None or inside(file, boundary)


def _existing_wrapper(crate_dir: Path | None, current: Path, name: str) -> WrapperHome | None:
    pattern = re.compile(rb"^(?:pub(?:\([^)]*\))?\s+)?fn\s+" + name.encode() + rb"\b", re.M)
    candidates = sorted(crate_dir.rglob("*.rs")) if crate_dir is not None else [current]
    index = crate_index(crate_dir) if crate_dir is not None else None
    for path in candidates:
        if crate_dir is not None and "target" in path.relative_to(crate_dir).parts:
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if pattern.search(data):
            resolved = path.resolve()
            module = index.module_of(resolved) if index is not None else ()
            return WrapperHome(resolved, module, exists=True)
    return None
