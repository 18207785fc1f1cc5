"""The workspace audit: files grouped into crates, counts per crate, comparison with an earlier audit, gates.

The report is a plain JSON-ready dict (its schema is documented in
docs/audit.md); the Markdown template and the HTML page render that dict.
Paths in it are relative to the audited directory, so reports made from
different working directories compare.
"""

from __future__ import annotations

import datetime
import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from glob import glob
from pathlib import Path
from typing import Any, Iterable, Mapping

from safety_ls import __version__
from safety_ls.audit.inventory import (
    ANNOTATION_TAGS,
    KINDS,
    FileAudit,
    UnsafeSite,
    audit_path,
)
from safety_ls.core.crate_dirs import crate_dir_of
from safety_ls.core.fingerprints import Fingerprint, match
from safety_ls.core.settings import Settings
from safety_ls.engine.discovery import rust_files
from safety_ls.engine.workspace import map_files
from safety_ls.facts.categories import Category

REPORT_VERSION = 1

# What an unjustified site of each category risks, as mistral.rs's SAFETY.md rates them.
CATEGORY_RISK = {
    "device allocation": "MEDIUM",
    "kernel launch": "HIGH",
    "FFI call": "MEDIUM",
    "mmap": "LOW",
    "raw pointer dereference": "MEDIUM",
    "transmute": "HIGH",
    "Send/Sync": "HIGH",
    "SIMD": "MEDIUM",
    "other": "MEDIUM",
}
RISK_ORDER = ("LOW", "MEDIUM", "HIGH")
APPROVED, NEEDS_DOCS = "approved", "needs docs"

# Cargo's target directories; every other file of a crate (src/, build.rs) is "src".
CARGO_TARGETS = ("src", "tests", "examples", "benches")


class AuditError(Exception):
    """The audit cannot run as asked (a broken manifest, an unreadable earlier report)."""


@dataclass(frozen=True)
class CrateInfo:
    name: str
    directory: Path  # resolved


@lru_cache(maxsize=1024)
def _manifest(directory: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((directory / "Cargo.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _crate_at(directory: Path) -> CrateInfo:
    package = _manifest(directory).get("package")
    name = package.get("name") if isinstance(package, dict) else None
    return CrateInfo(name if isinstance(name, str) and name else directory.name, directory)


def declared_crates(root: Path) -> list[CrateInfo]:
    """The crates `root/Cargo.toml` declares: its package, and its workspace members (globs expanded)."""
    manifest = root / "Cargo.toml"
    if not manifest.is_file():
        return []
    try:
        document = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AuditError(f"{manifest}: cannot read the workspace manifest: {error}") from None
    crates = [_crate_at(root)] if isinstance(document.get("package"), dict) else []
    workspace = document.get("workspace")
    if not isinstance(workspace, dict):
        return crates
    excluded = {(root / path).resolve() for path in workspace.get("exclude", []) if isinstance(path, str)}
    for pattern in workspace.get("members", []):
        if not isinstance(pattern, str):
            continue
        for member in sorted(glob(str(root / pattern))):
            directory = Path(member).resolve()
            if directory not in excluded and (directory / "Cargo.toml").is_file():
                crates.append(_crate_at(directory))
    return crates


def crate_of(path: Path, declared: list[CrateInfo], root: Path) -> CrateInfo:
    """The declared crate whose directory holds `path` (the deepest), else its nearest manifest's, else `root`."""
    holders = [crate for crate in declared if crate.directory in path.parents]
    if holders:
        return max(holders, key=lambda crate: len(crate.directory.parts))
    nearest = crate_dir_of(path)
    if nearest is not None and (nearest == root or root in nearest.parents):
        return _crate_at(nearest)
    return CrateInfo(root.name or str(root), root)


@dataclass(frozen=True)
class AuditTarget:
    """One directory (or file) to audit, with the settings that apply there."""

    path: Path
    settings: Settings


def _relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()


def cargo_target(path: Path, crate_directory: Path) -> str:
    """Which Cargo target a file of the crate belongs to, by its top directory in the crate."""
    try:
        top = path.relative_to(crate_directory).parts[0]
    except (ValueError, IndexError):
        return "src"
    return top if top in CARGO_TARGETS else "src"


@dataclass(frozen=True)
class AuditPlan:
    """What to audit: each target's files, with the name they are reported under and their crate."""

    base: Path  # report paths are relative to it
    work: list[tuple[AuditTarget, list[tuple[Path, str, CrateInfo]]]]
    unlisted: list[tuple[Path, str]]  # folders that could not be read, and why: reported, never skipped in silence


def plan_audit(targets: list[AuditTarget], cargo_targets: Iterable[str] = CARGO_TARGETS) -> AuditPlan:
    """The files to audit under `targets`, those of the Cargo targets named in `cargo_targets` only."""
    wanted = frozenset(cargo_targets)
    roots = [target.path.resolve() for target in targets]
    base = Path(os.path.commonpath(roots)) if roots else Path.cwd()
    if base.is_file():
        base = base.parent
    work = []
    unlisted: list[tuple[Path, str]] = []
    for target, root in zip(targets, roots):
        directory = root if root.is_dir() else root.parent
        if root.is_dir():
            declared = declared_crates(directory)
        else:  # one file: the crate of its nearest manifest, wherever that is
            declared = [_crate_at(manifest) for manifest in [crate_dir_of(root)] if manifest is not None]
        settings = target.settings
        exclude_root = Path(settings.root) if settings.root else directory
        found = rust_files([root], settings.exclude, exclude_root, unlisted)
        files = [Path(os.path.realpath(path)) for path in found]  # a loop is a file error, not a crash
        located = [(path, _relative(path, base), crate_of(path, declared, directory)) for path in files]
        work.append((target, [item for item in located if cargo_target(item[0], item[2].directory) in wanted]))
    return AuditPlan(base, work, unlisted)


def run_audit(
    targets: list[AuditTarget], *, jobs: int | None = None, date: str | None = None, cargo_targets: Iterable[str] = CARGO_TARGETS
) -> dict[str, Any]:
    """Audit every Rust file under the targets, spread over `jobs` processes, and build the report."""
    cargo_targets = tuple(cargo_targets)
    plan = plan_audit(targets, cargo_targets)
    assigned: list[tuple[CrateInfo, FileAudit]] = []
    for target, files in plan.work:
        audits = map_files([(path, display) for path, display, _ in files], audit_path, target.settings, jobs)
        assigned.extend((crate, audit) for (_, _, crate), audit in zip(files, audits))
    return build_report(plan.base, assigned, date or today(), cargo_targets, plan.unlisted)


def today() -> str:
    # SOURCE_DATE_EPOCH: the reproducible-builds convention for fixing "now" in generated files.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date().isoformat()
    return datetime.date.today().isoformat()


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _tally(audits: list[FileAudit]) -> dict[str, Any]:
    """The counts of one crate (or of everything)."""
    sites = [site for audit in audits for site in audit.sites]
    lines = sum(audit.lines for audit in audits)
    unsafe_lines = sum(audit.unsafe_lines for audit in audits)
    documented = sum(site.documented for site in sites)
    placeholders = sum(site.annotation == "placeholder" for site in sites)
    tally: dict[str, Any] = {
        "files": len(audits),
        "lines": lines,
        "unsafe_lines": unsafe_lines,
        "unsafe_percent": _percent(unsafe_lines, lines),
    }
    for kind in KINDS:
        of_kind = [site for site in sites if site.kind == kind]
        tally[f"unsafe_{kind}s"] = {"total": len(of_kind), "documented": sum(site.documented for site in of_kind)}
    tally["sites"] = {
        "total": len(sites),
        "documented": documented,
        "placeholder": placeholders,
        "undocumented": len(sites) - documented,
    }
    tally["documented_percent"] = _percent(documented, len(sites))
    tally["categories"] = {}
    for category in Category:
        of_category = [site for site in sites if site.category is category]
        written = sum(site.documented for site in of_category)
        tally["categories"][category.value] = {
            "total": len(of_category),
            "documented": written,
            "documented_percent": _percent(written, len(of_category)),
            "risk": CATEGORY_RISK[category.value],
            "status": APPROVED if written == len(of_category) else NEEDS_DOCS,
        }
    tally["overall_risk"] = overall_risk(tally["categories"])
    tally["annotations"] = {}
    for tag in ANNOTATION_TAGS:
        total = sum(audit.coverage[tag].sites for audit in audits if tag in audit.coverage)
        annotated = sum(audit.coverage[tag].annotated for audit in audits if tag in audit.coverage)
        tally["annotations"][tag] = {"sites": total, "annotated": annotated, "percent": _percent(annotated, total)}
    return tally


def overall_risk(categories: Mapping[str, Mapping[str, Any]]) -> str:
    """The highest risk among the categories that still need justifications; LOW when none does."""
    needing = [counts["risk"] for counts in categories.values() if counts["status"] == NEEDS_DOCS]
    return max(needing, key=RISK_ORDER.index, default="LOW")


def _target_tally(audits: list[FileAudit]) -> dict[str, Any]:
    tally = _tally(audits)
    return {key: tally[key] for key in ("files", "lines", "unsafe_lines", "unsafe_percent", "sites", "documented_percent")}


def _site_json(site: UnsafeSite, path: str, crate: str, target: str) -> dict[str, Any]:
    return {
        "path": path,
        "line": site.line,
        "column": site.column,
        "crate": crate,
        "target": target,
        "kind": site.kind,
        "category": site.category.value,
        "annotation": site.annotation,
        "documented": site.documented,
        "text": site.text,
        "fingerprint": site.fingerprint.exact,
        "line_fingerprint": site.fingerprint.line,
    }


def build_report(
    base: Path,
    assigned: Iterable[tuple[CrateInfo, FileAudit]],
    date: str,
    cargo_targets: Iterable[str] = CARGO_TARGETS,
    unlisted: Iterable[tuple[Path, str]] = (),
) -> dict[str, Any]:
    by_crate: dict[CrateInfo, list[FileAudit]] = {}
    for crate, audit in assigned:
        by_crate.setdefault(crate, []).append(audit)
    crates = sorted(by_crate, key=lambda crate: (crate.name, str(crate.directory)))
    names = [crate.name for crate in crates]
    label = {
        crate: crate.name if names.count(crate.name) == 1 else f"{crate.name} ({_relative(crate.directory, base)})"
        for crate in crates
    }
    every = [audit for crate in crates for audit in by_crate[crate]]
    analysed = [audit for audit in every if audit.error is None]
    target = {id(audit): cargo_target(base / audit.path, crate.directory) for crate in crates for audit in by_crate[crate]}
    summary = {"crates": len(crates), **_tally(analysed)}
    summary["targets"] = {
        name: _target_tally([audit for audit in analysed if target[id(audit)] == name])
        for name in CARGO_TARGETS
        if any(target[id(audit)] == name for audit in analysed)
    }
    report: dict[str, Any] = {
        "version": REPORT_VERSION,
        "tool": f"safety-ls {__version__}",
        "date": date,
        "root": base.name or str(base),
        "targets_audited": [name for name in CARGO_TARGETS if name in tuple(cargo_targets)],
        "summary": summary,
        "crates": [],
        "sites": [],
        "launches": [],
        "ffi": [],
        "errors": [{"path": audit.path, "error": audit.error} for audit in every if audit.error is not None]
        + [{"path": _relative(folder, base), "error": reason} for folder, reason in unlisted],
        "warnings": [{"path": audit.path, "warning": warning} for audit in every for warning in audit.warnings],
        "gates": [],
        "compare": None,
    }
    for crate in crates:
        audits = [audit for audit in by_crate[crate] if audit.error is None]
        report["crates"].append({"name": label[crate], "path": _relative(crate.directory, base), **_tally(audits)})
        for audit in sorted(audits, key=lambda audit: audit.path):
            report["sites"].extend(_site_json(site, audit.path, label[crate], target[id(audit)]) for site in audit.sites)
            report["launches"].extend(
                {"path": audit.path, "line": launch.line, "kernel": launch.kernel, "form": launch.form,
                 "arguments": list(launch.arguments) if launch.arguments is not None else None,
                 "definition": launch.definition, "checked": launch.checked}
                for launch in audit.launches
            )
            report["ffi"].extend(
                {"path": audit.path, "line": ffi.line, "name": ffi.name, "definition": ffi.definition, "checked": ffi.checked}
                for ffi in audit.ffi
            )
    return report


# --- comparing with an earlier audit --------------------------------------------------------


def _fingerprint(site: Mapping[str, Any]) -> Fingerprint:
    return Fingerprint(site["fingerprint"], site["line_fingerprint"])


def check_previous(previous: Any, origin: str) -> dict[str, Any]:
    """An earlier report, validated enough to compare with; `origin` names it in errors."""
    if not isinstance(previous, dict) or previous.get("version") != REPORT_VERSION:
        raise AuditError(f"{origin}: not a safety-ls audit report (JSON, version {REPORT_VERSION})")
    sites = previous.get("sites")
    fields = {"path": str, "line": int, "fingerprint": str, "line_fingerprint": str, "documented": bool}
    if not isinstance(sites, list) or not all(
        isinstance(site, dict) and all(isinstance(site.get(key), kind) for key, kind in fields.items()) for site in sites
    ):
        raise AuditError(f"{origin}: `sites` must list objects with {', '.join(fields)}")
    return previous


def compare(report: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """What changed since `previous`: sites matched by fingerprint, never by line number."""
    current, earlier = report["sites"], previous["sites"]
    pairs = match([_fingerprint(site) for site in current], [_fingerprint(site) for site in earlier])
    new_undocumented = [
        site for index, site in enumerate(current) if not site["documented"] and (index not in pairs or earlier[pairs[index]]["documented"])
    ]
    newly_documented = [
        site for index, site in enumerate(current) if site["documented"] and index in pairs and not earlier[pairs[index]]["documented"]
    ]
    kept = set(pairs.values())
    removed = [site for index, site in enumerate(earlier) if index not in kept and not site["documented"]]
    return {
        "previous_date": previous.get("date"),
        "previous_undocumented": sum(not site["documented"] for site in earlier),
        "undocumented": sum(not site["documented"] for site in current),
        "new_undocumented": new_undocumented,
        "newly_documented": newly_documented,
        "removed_undocumented": removed,
    }


# --- gates ----------------------------------------------------------------------------------


def evaluate_gates(report: dict[str, Any], max_undocumented: int | None, max_unsafe_percent: float | None) -> list[dict[str, Any]]:
    """The CI gates asked for, each with its limit, the measured value and whether it passed."""
    gates = []
    if max_undocumented is not None:
        value = report["summary"]["sites"]["undocumented"]
        gates.append(
            {
                "gate": "max-undocumented",
                "limit": max_undocumented,
                "value": value,
                "passed": value <= max_undocumented,
                "detail": f"{value} undocumented unsafe site(s), at most {max_undocumented} allowed",
            }
        )
    if max_unsafe_percent is not None:
        over = [crate for crate in report["crates"] if (crate["unsafe_percent"] or 0) > max_unsafe_percent]
        value = max((crate["unsafe_percent"] or 0 for crate in report["crates"]), default=0)
        listed = ", ".join(f"{crate['name']} {crate['unsafe_percent']}%" for crate in over)
        gates.append(
            {
                "gate": "max-unsafe-percent",
                "limit": max_unsafe_percent,
                "value": value,
                "passed": not over,
                "detail": f"over {max_unsafe_percent:g}% of lines inside unsafe: {listed}" if over else f"every crate at most {max_unsafe_percent:g}%",
                "crates_over": [crate["name"] for crate in over],
            }
        )
    return gates
