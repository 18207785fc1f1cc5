"""How a crate reaches cudarc and candle's CUDA backend, read from its Cargo.toml (and its workspace's).

The allocation wrapper must name cudarc's types by a path the crate can use:
`cudarc::driver` with a direct dependency, `candle_core::cuda::cudarc::driver`
when cudarc only comes through candle, `cudarc::driver` inside candle-core
itself; and it must compile under the feature that turns that dependency on.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

CANDLE_PACKAGE = "candle-core"


@dataclass(frozen=True)
class Dependency:
    name: str  # as code names it: the key with `-` read as `_`
    version: tuple[int, int] | None  # (major, minor)
    gate: str | None  # the crate feature that enables it (None: always on)


@dataclass(frozen=True)
class CudaReach:
    package: str
    dependencies: tuple[str, ...]  # every dependency's name as code writes it
    cudarc: Dependency | None  # a direct dependency on cudarc
    candle: Dependency | None  # candle-core with its CUDA backend (name "crate" inside candle-core)

    def knows(self, first_segment: str) -> bool:
        """Whether a path starting with this segment resolves from the crate root."""
        return first_segment in ("crate", "std", "core", "alloc") or first_segment in self.dependencies


def _table(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def _load(path: Path) -> dict[str, Any]:
    """The manifest's tables; a crate's reach reads its workspace's manifest several times."""
    try:
        status = path.stat()
    except OSError:
        return {}
    return _parsed(path, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=64)
def _parsed(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _workspace_dependencies(crate_dir: Path) -> dict[str, Any]:
    for directory in (crate_dir, *crate_dir.parents):
        document = _load(directory / "Cargo.toml")
        if "workspace" in document:
            return _table(_table(document, "workspace"), "dependencies")
    return {}


_VERSION = re.compile(r"(\d+)\.(\d+)")


def _version(spec: dict[str, Any], base: Path) -> tuple[int, int] | None:
    text = spec.get("version")
    if not isinstance(text, str) and isinstance(spec.get("path"), str):
        # A path dependency: its own manifest says which version it is.
        text = _table(_load(base / spec["path"] / "Cargo.toml"), "package").get("version")
    match = _VERSION.search(text) if isinstance(text, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def _all_dependencies(document: dict[str, Any]) -> dict[str, Any]:
    found = dict(_table(document, "dependencies"))
    for target in _table(document, "target").values():
        if isinstance(target, dict):
            found.update(_table(target, "dependencies"))
    return found


def _gate(features: dict[str, Any], key: str, needs_feature: str | None) -> str | None:
    """The crate feature whose list turns on `key` (or `key`'s `needs_feature`)."""
    wanted = {f"{key}/{needs_feature}", f"{key}?/{needs_feature}"} if needs_feature else {key, f"dep:{key}"}
    for feature, enables in features.items():
        if isinstance(enables, list) and wanted & {item for item in enables if isinstance(item, str)}:
            return feature
    return None


def _dependency(
    key: str, spec: Any, workspace: dict[str, Any], crate_dir: Path, features: dict[str, Any], needs: str | None
) -> Dependency:
    own = spec if isinstance(spec, dict) else {"version": spec}
    shared = workspace.get(key) if own.get("workspace") is True else None
    merged = {**(shared if isinstance(shared, dict) else {"version": shared}), **own}
    base = crate_dir if shared is None else _workspace_root(crate_dir)
    enabled = needs is None or needs in (merged.get("features") or ())
    gate = None if enabled and not own.get("optional") else _gate(features, key, needs if not enabled else None)
    return Dependency(key.replace("-", "_"), _version(merged, base), gate)


def _workspace_root(crate_dir: Path) -> Path:
    for directory in (crate_dir, *crate_dir.parents):
        if "workspace" in _load(directory / "Cargo.toml"):
            return directory
    return crate_dir


def _package_of(key: str, spec: Any, workspace: dict[str, Any]) -> str:
    for candidate in (spec, workspace.get(key)):
        if isinstance(candidate, dict) and isinstance(candidate.get("package"), str):
            return candidate["package"]
    return key


@lru_cache(maxsize=64)
def _reach(crate_dir: Path, stamp: int) -> CudaReach:
    document = _load(crate_dir / "Cargo.toml")
    package = str(_table(document, "package").get("name", ""))
    features = _table(document, "features")
    workspace = _workspace_dependencies(crate_dir)
    dependencies = _all_dependencies(document)
    cudarc = candle = None
    for key, spec in dependencies.items():
        real = _package_of(key, spec, workspace)
        if real == "cudarc":
            cudarc = _dependency(key, spec, workspace, crate_dir, features, None)
        elif real == CANDLE_PACKAGE:
            candle = _dependency(key, spec, workspace, crate_dir, features, "cuda")
    if package == CANDLE_PACKAGE and cudarc is not None:
        candle = Dependency("crate", None, cudarc.gate)
    names = tuple(key.replace("-", "_") for key in dependencies)
    return CudaReach(package, names, cudarc, candle)


def cuda_reach(crate_dir: Path) -> CudaReach:
    """The crate's CUDA dependencies (cached until its Cargo.toml changes)."""
    try:
        stamp = (crate_dir / "Cargo.toml").stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _reach(crate_dir, stamp)
