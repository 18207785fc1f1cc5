"""Placing sanitizer findings at the workspace's launch sites.

A record with a host backtrace is placed by its innermost frame that names a
file of the workspace: the launch whose call spans that line, else the line
itself. Frames carry paths as the binary was built: absolute under another
checkout (`[gpu] build-root` names it), relative to the crate (`src/main.rs`,
XML) or a bare file name (`main.rs`, text); they are matched to workspace files
by their trailing path parts, and ties are broken by the frame's function
(its crate and fn name). Records without frames (racecheck) are placed at the
launches of the kernel they name, else at the kernel's definition.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from safety_ls.core.findings import Diagnostic, Finding, Severity
from safety_ls.core.parsing import build_units, parse
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceError, SourceText
from safety_ls.core.triggers import UNSAFE
from safety_ls.facts.cuda_kernels import workspace_kernels
from safety_ls.facts.launches import LaunchSite, find_launches
from safety_ls.gpu.reports import HostFrame, SanitizerError, SanitizerReport
from safety_ls.rules import ALL_RULES
from safety_ls.rules.gpu_sanitizer import GPU_SANITIZER_ERROR

RULE = GPU_SANITIZER_ERROR
MAX_SOURCES = 50_000
_RUST_HASH = re.compile(r"::h[0-9a-f]{16}$")
_FOREIGN = ("/rustc/", "/.cargo/registry/", "/.cargo/git/", "/.rustup/")


@dataclass(frozen=True)
class Placement:
    path: Path  # resolved
    line: int  # 0-based
    site: LaunchSite | None


@dataclass
class _ParsedFile:
    source: SourceText
    sites: list[LaunchSite]


def frame_function(frame: HostFrame) -> tuple[str | None, str | None]:
    """(crate, fn name) from a demangled Rust symbol: `gpu_probe::launch_oob::h1234..` -> (gpu_probe, launch_oob)."""
    if not frame.function:
        return None, None
    symbol = _RUST_HASH.sub("", frame.function.strip())
    parts = [part for part in symbol.split("::") if part and not part.startswith("{{")]
    if len(parts) < 2:
        return None, parts[0] if parts else None
    return parts[0], parts[-1]


class Workspace:
    """The workspace's Rust files, found by the paths host frames carry, with their launch sites."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root.resolve()
        self.settings = settings
        self.build_root = PurePosixPath(settings.gpu.build_root) if settings.gpu.build_root else None
        self.files = _rust_sources(self.root)
        self._parsed: dict[Path, _ParsedFile | None] = {}
        self._crate_names: dict[Path, str | None] = {}

    def parsed(self, path: Path) -> _ParsedFile | None:
        if path not in self._parsed:
            try:
                source = SourceText(path.read_bytes())
            except (OSError, SourceError):
                self._parsed[path] = None
                return None
            unit = build_units(parse(source.data), source.data, UNSAFE)
            self._parsed[path] = _ParsedFile(source, find_launches(unit, self.settings.launch_patterns))
        return self._parsed[path]

    def resolve(self, frame: HostFrame) -> Path | None:
        """The workspace file a frame's path names, if any."""
        if not frame.path or any(marker in frame.path for marker in _FOREIGN):
            return None
        given = PurePosixPath(frame.path.replace("\\", "/"))
        if given.is_absolute():
            for base in (self.build_root, PurePosixPath(self.root.as_posix())):
                if base is not None and given.is_relative_to(base):
                    candidate = (self.root / given.relative_to(base)).resolve()
                    if candidate in self.files:
                        return candidate
        wanted = given.parts[1:] if given.is_absolute() else given.parts
        best: list[tuple[int, Path]] = []
        for path in self.files:
            common = _common_suffix(path.relative_to(self.root).parts, wanted)
            if common:
                best.append((common, path))
        if not best:
            return None
        longest = max(common for common, _ in best)
        candidates = [path for common, path in best if common == longest]
        return candidates[0] if len(candidates) == 1 else self._by_function(candidates, frame)

    def _by_function(self, candidates: list[Path], frame: HostFrame) -> Path | None:
        crate, function = frame_function(frame)
        scored = []
        for path in candidates:
            score = 0
            if crate is not None and self._crate_name(path) == crate:
                score += 2
            parsed = self.parsed(path)
            if function and parsed is not None and re.search(rb"\bfn\s+" + re.escape(function.encode()) + rb"\b", parsed.source.data):
                score += 1
            scored.append((score, path))
        best = max(score for score, _ in scored)
        winners = [path for score, path in scored if score == best]
        return winners[0] if len(winners) == 1 and best > 0 else None

    def _crate_name(self, path: Path) -> str | None:
        for directory in path.parents:
            if directory in self._crate_names:
                return self._crate_names[directory]
            manifest = directory / "Cargo.toml"
            if manifest.is_file():
                try:
                    package = tomllib.loads(manifest.read_text(encoding="utf-8")).get("package", {})
                    name = str(package.get("name", "")).replace("-", "_") or None
                except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                    name = None
                self._crate_names[directory] = name
                return name
            if directory == self.root:
                break
        return None

    def place_frame(self, frame: HostFrame) -> Placement | None:
        path = self.resolve(frame)
        if path is None or frame.line is None:
            return None
        parsed = self.parsed(path)
        if parsed is None:
            return None
        line = frame.line - 1
        spanning = [
            site
            for site in parsed.sites
            if parsed.source.line_of(site.span[0]) <= line <= parsed.source.line_of(max(site.span[1] - 1, site.span[0]))
        ]
        site = min(spanning, key=lambda s: s.span[1] - s.span[0]) if spanning else None
        return Placement(path, line, site)

    def launches_of(self, kernel: str) -> list[Placement]:
        found = []
        needle = kernel.encode()
        for path in self.files:
            try:
                if needle not in path.read_bytes():
                    continue
            except OSError:
                continue
            parsed = self.parsed(path)
            for site in parsed.sites if parsed is not None else []:
                if site.kernel == kernel:
                    found.append(Placement(path, parsed.source.line_of(site.start), site))
        return found

    def kernel_definition(self, kernel: str) -> Placement | None:
        definitions = workspace_kernels(self.root).kernels.get(kernel, [])
        if len(definitions) != 1:
            return None
        return Placement(Path(definitions[0].path).resolve(), definitions[0].line - 1, None)

    def place(self, error: SanitizerError) -> list[Placement]:
        for frame in error.frames:
            placement = self.place_frame(frame)
            if placement is not None:
                return [placement]
        if error.kernel:
            launches = self.launches_of(error.kernel)
            if launches:
                return launches
            definition = self.kernel_definition(error.kernel)
            if definition is not None:
                return [definition]
        return []


def _rust_sources(root: Path) -> list[Path]:
    """Every `.rs` file under `root` but build output and hidden directories.

    Unlike `check`, ignore files are not honoured: a frame names a file the
    binary was built from, whether or not git tracks it.
    """
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith(".") and d != "target")
        found.extend(Path(directory, name).resolve() for name in sorted(files) if name.endswith(".rs"))
        if len(found) > MAX_SOURCES:
            break
    return found


def _common_suffix(parts: tuple[str, ...], wanted: tuple[str, ...]) -> int:
    count = 0
    while count < min(len(parts), len(wanted)) and parts[-1 - count] == wanted[-1 - count]:
        count += 1
    return count


@dataclass
class _Group:
    placement: Placement
    tool: str
    message: str
    kernel: str | None
    warning: bool
    count: int = 0
    example: tuple[str, ...] = ()
    report: SanitizerReport | None = field(default=None, repr=False)


@dataclass
class MappedFindings:
    diagnostics: dict[Path, list[Diagnostic]] = field(default_factory=dict)
    sources: dict[Path, SourceText] = field(default_factory=dict)
    # Findings no workspace line could be found for: description -> how many records.
    unmapped: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(items) for items in self.diagnostics.values())


def _example(error: SanitizerError) -> tuple[str, ...]:
    """The first detail lines, less the device location (the kernel is named already)."""
    return tuple(line for line in error.details if not line.startswith("at "))[:3]


def _message(group: _Group) -> str:
    kernel = f" in `{group.kernel}`" if group.kernel and group.kernel not in group.message else ""
    if group.tool == "racecheck":
        amount = f"{group.count} hazard{'s' if group.count != 1 else ''}"
    else:
        amount = f"{group.count} record{'s' if group.count != 1 else ''}"
    report = group.report
    if report is not None and report.reported and report.reported > len(report.errors):
        amount += f" printed; the run reported {report.reported} in all"
    text = f"{group.tool}: {group.message}{kernel} ({amount})"
    if group.example:
        text += "; e.g. " + "; ".join(group.example)
    return text


def map_reports(
    reports: list[SanitizerReport], workspace: Workspace, display: Callable[[Path], str]
) -> MappedFindings:
    """Diagnostics (rule gpu-sanitizer-error) for every report's records, one per site and kind of error."""
    groups: dict[tuple[Path, int, str, str], _Group] = {}
    mapped = MappedFindings()
    for report in reports:
        for error in report.errors:
            placements = workspace.place(error)
            if not placements:
                where = f" in `{error.kernel}`" if error.kernel else ""
                text = f"{error.tool}: {error.message}{where} (no frame or kernel in this workspace)"
                mapped.unmapped[text] = mapped.unmapped.get(text, 0) + 1
                continue
            for placement in placements:
                anchor = placement.site.start if placement.site is not None else placement.line
                key = (placement.path, anchor, error.tool, error.message)
                group = groups.setdefault(
                    key, _Group(placement, error.tool, error.message, error.kernel, error.warning, example=_example(error), report=report)
                )
                group.count += error.hazards
    rule = ALL_RULES[RULE]
    severity = workspace.settings.severity_of(rule.id, rule.default_severity)
    for group in groups.values():
        path = group.placement.path
        if path not in mapped.sources:
            parsed = workspace.parsed(path) if path.suffix == ".rs" else None
            try:
                mapped.sources[path] = parsed.source if parsed is not None else SourceText(path.read_bytes())
            except (OSError, SourceError):
                mapped.unmapped[f"{group.tool}: {group.message} (at {path}, which cannot be read)"] = group.count
                continue
        source = mapped.sources[path]
        if group.placement.site is not None:
            start, end = group.placement.site.start, group.placement.site.end
        else:
            line_start, line_end = source.line_bounds(min(group.placement.line, source.line_count - 1))
            text = source.data[line_start:line_end]
            start, end = line_start + len(text) - len(text.lstrip()), line_end
        finding = Finding(RULE, start, end, _message(group), {"kind": "kernel launch", "tool": group.tool, "kernel": group.kernel})
        level = Severity.WARNING if group.warning and severity is Severity.ERROR else severity
        mapped.diagnostics.setdefault(path, []).append(Diagnostic.place(display(path), source, finding, level, False))
    for items in mapped.diagnostics.values():
        items.sort(key=Diagnostic.sort_key)
    return mapped
