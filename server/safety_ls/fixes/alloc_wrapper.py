"""The checked device-allocation wrapper: recognising the call, and placing the wrapper once per crate.

`unsafe { dev.alloc::<T>(n) }` becomes `alloc_device_buffer::<T>(&dev, n)`
(`alloc_stream_buffer` for cudarc's stream form). The wrapper is added once
per crate: where it already exists, else in the module `alloc-wrapper-module`
names, else beside the first use; other files get the `use` they need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safety_ls.core.crate import crate_index
from safety_ls.core.files import inside
from safety_ls.facts.allocation import WRAPPER_NAMES

_DRIVER_TYPES = {"device": "CudaDevice", "stream": "CudaStream"}


def driver_path(data: bytes, form: str) -> str:
    """How the file names cudarc's driver module: the path its `use` of CudaDevice/CudaStream goes through."""
    type_name = _DRIVER_TYPES[form].encode()
    for pattern in (
        rb"use\s+((?:::)?[\w:]+?)::\{[^}]*\b" + type_name + rb"\b",
        rb"use\s+((?:::)?[\w:]+?)::" + type_name + rb"\b",
    ):
        match = re.search(pattern, data)
        if match:
            return match.group(1).decode()
    return "cudarc::driver"


def wrapper_context(data: bytes, form: str) -> dict[str, Any]:
    return {"name": WRAPPER_NAMES[form], "form": form, "type": _DRIVER_TYPES[form], "driver": driver_path(data, form)}


_TOP_LEVEL_USE = re.compile(rb"^use\s[^;]*;[^\n]*\n?", re.M)
_FILE_PREAMBLE = re.compile(rb"\A(?:\xef\xbb\xbf)?(?:[ \t]*(?://![^\n]*|#!\[[^\n]*\]|)\r?\n)*")


def use_insertion_offset(data: bytes) -> int:
    """Where a new top-level `use` goes: after the last one, else after the file's inner docs and attributes."""
    uses = list(_TOP_LEVEL_USE.finditer(data))
    if uses:
        return uses[-1].end()
    preamble = _FILE_PREAMBLE.match(data)
    return preamble.end() if preamble else 0


@dataclass
class WrapperHome:
    file: Path
    module: tuple[str, ...]
    exists: bool  # already written (before this run, or earlier in it)


@dataclass
class WrapperPlan:
    """Where each crate's wrapper is, or is being added, during one fix run."""

    configured_module: str | None = None  # e.g. "gpu::alloc" (alloc-wrapper-module)
    # Files outside this folder (the crate's, when unset) never receive the wrapper: a `#[path]`
    # module can point anywhere, and a cloned repository must not make `fix` write outside it.
    workspace: Path | None = None
    notes: list[str] = field(default_factory=list)  # why a configured home was passed over
    homes: dict[tuple[str, str], WrapperHome] = field(default_factory=dict)
    # Wrappers to append to files other than the one being fixed (the configured module).
    pending: dict[Path, list[str]] = field(default_factory=dict)

    def home(self, crate_dir: Path | None, current: Path, form: str) -> WrapperHome:
        key = (str(crate_dir), form)
        if key in self.homes:
            return self.homes[key]
        name = WRAPPER_NAMES[form]
        home = _existing_wrapper(crate_dir, current, name)
        if home is None and crate_dir is not None and self.configured_module:
            wanted = tuple(part for part in self.configured_module.removeprefix("crate::").split("::") if part)
            index = crate_index(crate_dir)
            configured = next((path for path, module in index.module_paths.items() if module == wanted), None)
            if configured is not None:
                home = WrapperHome(configured, wanted, exists=False)
        if home is not None and not home.exists and not self._may_write(home.file, crate_dir):
            self.notes.append(
                f"the wrapper was not added to module `{self.configured_module}`: its file {home.file} "
                "is outside the workspace; it was added beside its first use instead"
            )
            home = None
        if home is None:
            index = crate_index(crate_dir) if crate_dir is not None else None
            module = index.module_of(current.resolve()) if index is not None else ()
            if (
                index is not None
                and index.root_files
                and len(module) > 1
                and module not in index.exported_modules
                and self._may_write(index.root_files[0], crate_dir)
            ):
                # `crate::a::b` with `b` private to `a` cannot be imported from elsewhere in the
                # crate; the crate root can be, from every module.
                home = WrapperHome(index.root_files[0], (), exists=False)
            else:
                home = WrapperHome(current.resolve(), module, exists=False)
        self.homes[key] = home
        return home

    def _may_write(self, file: Path, crate_dir: Path | None) -> bool:
        boundary = self.workspace or crate_dir
        return boundary is None or inside(file, boundary)


def _existing_wrapper(crate_dir: Path | None, current: Path, name: str) -> WrapperHome | None:
    pattern = re.compile(rb"\bfn\s+" + name.encode() + rb"\b")
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
