#!/usr/bin/env python3
"""Clippy oracle: ask rustc/clippy which `unsafe` sites exist and which are undocumented.

For a Rust crate directory (e.g. one of Debian's vendored crates under
/usr/share/cargo/registry/<crate>-<version>/) this module

* copies the crate into a temporary directory,
* writes a ``.cargo/config.toml`` that replaces crates-io with the directory
  source ``/usr/share/cargo/registry`` (Debian ships ``.cargo-checksum.json``
  files with an empty ``files`` map there, which is all a directory source needs),
* strips ``[dev-dependencies]`` / ``[target.*.dev-dependencies]`` and explicit
  ``[[bench]]``/``[[example]]``/``[[test]]``/``[[bin]]`` targets from
  ``Cargo.toml`` (dev-dependencies are resolved even for ``--lib`` and are
  usually not packaged, which breaks offline resolution),
* runs ``cargo clippy --offline --lib --message-format=json -- <lint flags>``.

Lint flags after ``--`` are applied by clippy-driver to the crate under test
only (dependencies are compiled by plain rustc and are cached in a shared
``CARGO_TARGET_DIR``).  ``--force-warn unsafe_code`` makes rustc report every
compiled ``unsafe`` block / fn / impl / trait (cfg'd-out code is not compiled),
which gives the denominator.  Two passes are made:

1. ``-W clippy::undocumented_unsafe_blocks -W clippy::missing_safety_doc`` —
   what clippy reports when the crate's own ``#[allow(...)]`` attributes are
   respected (the ``clippy`` list), and
2. the same lints with ``--force-warn`` — sites clippy's logic flags but the
   crate allows (the ``clippy_allowed`` list).  Skip with ``--no-forced``.

Output (one object per crate)::

    {"crate": name, "version": v, "root": dir,
     "features": "default" | "all" | [feature, ...],   # what the lists were built with
     "features_error": str,      # only if a richer feature set failed first
     "dropped_deps": [...],      # deps missing from the registry, removed from Cargo.toml
     "compiled": [{"path", "line", "column", "end_line", "end_column",
                   "kind", "message", "in_macro", "target", ...}],
     "clippy":   [{"path", "line", "column", "lint", "message", "in_macro", ...}],
     "clippy_allowed": [...same shape...],
     "dropped_outside_crate": n, "seconds": t, "error": null-or-string}

Features (``--features-mode``, default ``auto``): every feature and optional
dependency except nightly/std-internal-looking ones (``NIGHTLY_FEATURE_RE``) is
enabled so that as much code as possible is compiled; if that fails, one
feature at a time is left out, then default features are used.  Only
``--lib`` is built, so ``#[cfg(test)]`` code, tests, benches and examples are
never in ``compiled``.  If the build fails, ``error`` is set and the lists hold
whatever was reported before the failure (partial).

Lines and columns are 1-based; columns count characters (rustc's
``column_start``).  Paths are relative to the crate root.  For diagnostics
whose primary span comes from a macro expansion the primary span is recorded
(for a local ``macro_rules!`` that is the location inside the macro
definition), ``in_macro`` is true and ``macro_call`` gives the outermost call
site inside the crate (if any) of the first expansion; ``macro_calls`` lists
the distinct ones.  Identical (path, line, column, kind/lint) entries — e.g.
one macro body expanded many times — are merged and counted in ``count``
(rustc itself already merges identical diagnostics from one expansion, e.g. a
``$(...)+`` repetition, so ``count`` is not an exact expansion count).

CLI::

    python tests/support/clippy_oracle.py CRATE_DIR... --out FILE.json [--jobs N]

Stdlib only (Python 3.11+).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

DEBIAN_REGISTRY = "/usr/share/cargo/registry"
DEFAULT_TARGET_DIR = "/tmp/safety-ls-clippy-target"

CLIPPY_LINTS = ("clippy::undocumented_unsafe_blocks", "clippy::missing_safety_doc")

CARGO_CONFIG = """\
[source.crates-io]
replace-with = "debian-vendored"

[source.debian-vendored]
directory = "{registry}"

[net]
offline = true

[term]
color = "never"
"""

# rustc's `unsafe_code` messages -> kind.  Anything else is kept as "other".
_KIND_PATTERNS = [
    ("block", re.compile(r"usage of an `unsafe` block")),
    ("fn", re.compile(r"declaration of an `unsafe` function")),
    ("method", re.compile(r"(declaration|implementation) of an `unsafe` method")),
    ("impl", re.compile(r"implementation of an `unsafe` trait")),
    ("trait", re.compile(r"declaration of an `unsafe` trait")),
    ("extern", re.compile(r"`unsafe extern`|extern block")),
    ("attr", re.compile(r"no_mangle|export_name|link_section|unsafe attribute|`unsafe` attribute")),
    ("global_asm", re.compile(r"global_asm")),
    ("field", re.compile(r"unsafe field")),
]


def unsafe_kind(message: str) -> str:
    for kind, pat in _KIND_PATTERNS:
        if pat.search(message):
            return kind
    return "other"


# --------------------------------------------------------------------------
# Cargo.toml massaging


_HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_DROP_TABLE_RE = re.compile(r"^(dev-dependencies|target\..+\.dev-dependencies)(\.|$)")
_DEPS_TABLE_RE = re.compile(r"^((?:target\..+\.)?(?:build-)?dependencies)(?:\.(.+))?$")
_DROP_ARRAY = {"bench", "example", "test", "bin"}

# Features that need a nightly compiler or are only meant for std/rustc-internal
# builds; "auto" feature mode enables every other feature.
NIGHTLY_FEATURE_RE = re.compile(
    r"nightly|unstable|may_dangle|specialization|allocator[_-]api|rustc-dep-of-std|"
    r"rustc-internal-api|rustc-std-workspace|compiler[_-]builtins|^core$|^std-core$|^test|const-extern-fn|"
    r"^stats$|^docs?(rs)?$|doc[_-]cfg|^bench|^loom$|^simd"
)


def _unquote(key: str) -> str:
    key = key.strip()
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    return key


def _toml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string


def _feature_deps(values: list[str], dropped: set[str]) -> list[str]:
    out = []
    for v in values:
        base = v[4:] if v.startswith("dep:") else v.split("/", 1)[0].rstrip("?")
        if base in dropped:
            continue
        out.append(v)
    return out


def strip_manifest(text: str, drop_deps: set[str] | frozenset = frozenset()) -> str:
    """Rewrite a crates.io-normalized Cargo.toml for an offline ``--lib`` build.

    Removes dev-dependency tables, ``[[bench]]``/``[[example]]``/``[[test]]``/
    ``[[bin]]`` targets, and the dependencies named in ``drop_deps`` (dependency
    keys, or package names of renamed dependencies) together with every feature
    entry that refers to them.  Normalized manifests (which Debian ships) only
    use ``[table]`` / ``[[array]]`` headers with one key per line, so a
    line-oriented filter is enough; ``[features]`` is re-emitted from the
    parsed manifest when dependencies are dropped.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return text
    dropped_keys: set[str] = set()
    if drop_deps:
        tables = [data.get("dependencies", {}), data.get("build-dependencies", {})]
        for tgt in data.get("target", {}).values():
            tables += [tgt.get("dependencies", {}), tgt.get("build-dependencies", {})]
        for tbl in tables:
            for key, spec in tbl.items():
                pkg = spec.get("package", key) if isinstance(spec, dict) else key
                if key in drop_deps or pkg in drop_deps:
                    dropped_keys.add(key)

    out: list[str] = []
    skip = False
    in_deps_table = False
    for line in text.splitlines():
        m = _HEADER_RE.match(line)
        if m:
            bracket, name = m.group(1), m.group(2).strip()
            in_deps_table = False
            if bracket == "[[":
                skip = name in _DROP_ARRAY
            elif _DROP_TABLE_RE.match(name):
                skip = True
            elif dropped_keys and name == "features":
                skip = True  # re-emitted below
            else:
                skip = False
                dm = _DEPS_TABLE_RE.match(name)
                if dm and dm.group(2) is not None:
                    skip = _unquote(dm.group(2)) in dropped_keys
                elif dm:
                    in_deps_table = True
        elif in_deps_table and dropped_keys:
            km = re.match(r"^\s*(\"[^\"]+\"|'[^']+'|[A-Za-z0-9_-]+)\s*=", line)
            if km and _unquote(km.group(1)) in dropped_keys:
                continue
        if not skip:
            out.append(line)
    if dropped_keys and "features" in data:
        out.append("")
        out.append("[features]")
        for feat, vals in data["features"].items():
            if feat in dropped_keys:
                continue
            kept = _feature_deps(list(vals), dropped_keys)
            out.append(f"{_toml_str(feat)} = [{', '.join(_toml_str(v) for v in kept)}]")
    result = "\n".join(out) + "\n"
    try:
        new = tomllib.loads(result)
    except tomllib.TOMLDecodeError:
        return text  # be conservative: don't break a manifest we don't understand
    if "workspace" not in new:
        # Make the copy its own workspace root even if some parent dir has a Cargo.toml.
        result += "\n[workspace]\n"
    return result


def candidate_features(manifest_text: str) -> list[str]:
    """All features (incl. implicit optional-dependency features) minus nightly-only ones."""
    data = tomllib.loads(manifest_text)
    feats = dict(data.get("features", {}))
    explicit_dep_refs = {v[4:] for vals in feats.values() for v in vals if v.startswith("dep:")}
    names = [f for f in feats if f != "default"]
    for key, spec in data.get("dependencies", {}).items():
        if isinstance(spec, dict) and spec.get("optional") and key not in feats \
                and key not in explicit_dep_refs:
            names.append(key)

    bad: set[str] = set()

    def is_bad(f: str, seen: frozenset = frozenset()) -> bool:
        if NIGHTLY_FEATURE_RE.search(f):
            return True
        if f in seen:
            return False
        for v in feats.get(f, []):
            base = v[4:] if v.startswith("dep:") else v.split("/", 1)[0].rstrip("?")
            if base in feats and base != f and is_bad(base, seen | {f}):
                return True
            if NIGHTLY_FEATURE_RE.search(base):
                return True
        return False

    for f in names:
        if is_bad(f):
            bad.add(f)
    return sorted(f for f in names if f not in bad)


_MISSING_PKG_RE = re.compile(r"no matching package (?:named|found)[^`]*`([^`]+)`")


def crate_name_version(crate_dir: Path) -> tuple[str, str]:
    try:
        data = tomllib.loads((crate_dir / "Cargo.toml").read_text(encoding="utf-8"))
        pkg = data.get("package", {})
        return str(pkg.get("name", crate_dir.name)), str(pkg.get("version", ""))
    except (OSError, tomllib.TOMLDecodeError):
        m = re.match(r"^(.*)-(\d+\.\d+\.\d+.*)$", crate_dir.name)
        return (m.group(1), m.group(2)) if m else (crate_dir.name, "")


# --------------------------------------------------------------------------
# diagnostics


def _rel(file_name: str, root: Path) -> str | None:
    """Path of a span relative to the (temporary) crate root, or None if outside."""
    p = Path(file_name)
    if not p.is_absolute():
        p = root / p
    try:
        rel = Path(os.path.normpath(p)).relative_to(root)
    except ValueError:
        return None
    s = rel.as_posix()
    if s.startswith("target/") or s.startswith(".cargo/"):
        return None
    return s


def _outermost_local_call(span: dict, root: Path) -> dict | None:
    """Walk a span's macro backtrace; return the outermost call site inside the crate."""
    best = None
    exp = span.get("expansion")
    while exp:
        call = exp.get("span") or {}
        rel = _rel(call.get("file_name", ""), root) if call else None
        if rel is not None:
            best = {
                "path": rel,
                "line": call["line_start"],
                "column": call["column_start"],
                "macro": exp.get("macro_decl_name"),
            }
        exp = call.get("expansion") if call else None
    return best


def _primary_span(diag: dict) -> dict | None:
    for sp in diag.get("spans", []):
        if sp.get("is_primary"):
            return sp
    return diag["spans"][0] if diag.get("spans") else None


class _Collector:
    def __init__(self, root: Path):
        self.root = root
        self.compiled: dict[tuple, dict] = {}
        self.clippy: dict[tuple, dict] = {}
        self.dropped = 0
        self.errors: list[str] = []

    def add(self, msg: dict) -> None:
        diag = msg.get("message") or {}
        code = (diag.get("code") or {}).get("code")
        level = diag.get("level")
        if level == "error" and code is None:
            self.errors.append(diag.get("rendered") or diag.get("message", ""))
            return
        if level == "error":
            self.errors.append(diag.get("rendered") or diag.get("message", ""))
        if code not in ("unsafe_code",) + CLIPPY_LINTS:
            return
        sp = _primary_span(diag)
        if sp is None:
            return
        rel = _rel(sp["file_name"], self.root)
        if rel is None:
            self.dropped += 1
            return
        target = (msg.get("target") or {}).get("kind") or []
        entry = {
            "path": rel,
            "line": sp["line_start"],
            "column": sp["column_start"],
            "end_line": sp["line_end"],
            "end_column": sp["column_end"],
            "message": diag.get("message", ""),
            "in_macro": sp.get("expansion") is not None,
            "target": "build-script" if "custom-build" in target else "lib",
        }
        if entry["in_macro"]:
            entry["macro_call"] = _outermost_local_call(sp, self.root)
        if code == "unsafe_code":
            entry["kind"] = unsafe_kind(entry["message"])
            key = (rel, entry["line"], entry["column"], entry["kind"], entry["target"])
            table = self.compiled
        else:
            entry["lint"] = code.split("::", 1)[1]
            key = (rel, entry["line"], entry["column"], entry["lint"], entry["target"])
            table = self.clippy
        if key in table:
            prev = table[key]
            prev["count"] += 1
            call = entry.get("macro_call")
            if call and call not in prev.setdefault("macro_calls", []):
                prev["macro_calls"].append(call)
        else:
            entry["count"] = 1
            if entry.get("macro_call"):
                entry["macro_calls"] = [entry["macro_call"]]
            table[key] = entry

    @staticmethod
    def _sorted(table: dict) -> list[dict]:
        return sorted(table.values(), key=lambda e: (e["path"], e["line"], e["column"]))


def _lint_args(clippy_level: str) -> list[str]:
    flag = {"warn": "-W", "force-warn": "--force-warn"}[clippy_level]
    # Silence the default clippy groups to keep the JSON small; the two lints of
    # interest are re-enabled afterwards (later flags win).
    # --cap-lints=warn: crates with #![deny(warnings)] / #![deny(clippy::...)]
    # otherwise fail on lints that newer compilers added.
    args = ["--cap-lints=warn", "-A", "clippy::all"]
    for lint in CLIPPY_LINTS:
        args += [flag, lint]
    args += ["--force-warn", "unsafe_code"]
    return args


def _run_clippy(work: Path, env: dict, lint_args: list[str], features: list[str],
                timeout: float) -> tuple[int, list[dict], str]:
    cmd = ["cargo", "clippy", "--offline", "--lib", "--message-format=json", *features,
           "--", *lint_args]
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True,
                          timeout=timeout)
    msgs = []
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            try:
                msgs.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return proc.returncode, msgs, proc.stderr


def _cargo_error(stderr: str, collector: _Collector) -> str:
    if collector.errors:
        return "\n".join(e.strip() for e in collector.errors[:3])[:4000]
    lines = [l for l in stderr.splitlines() if l.strip()]
    err_idx = next((i for i, l in enumerate(lines) if l.lstrip().startswith("error")), None)
    tail = lines[err_idx:] if err_idx is not None else lines[-15:]
    return "\n".join(tail)[:4000]


def _short(err: str | None, limit: int = 600) -> str | None:
    return None if err is None else err[:limit]


def check_crate(crate_dir: str | os.PathLike, *, registry: str = DEBIAN_REGISTRY,
                target_dir: str = DEFAULT_TARGET_DIR, forced: bool = True,
                features_mode: str = "auto", timeout: float = 1800.0,
                max_feature_retries: int = 12) -> dict:
    """Run the oracle on one crate directory; never raises for build failures.

    features_mode: "default" (default features), "all" (``--all-features``,
    falling back to default), or "auto" (every feature not matching
    NIGHTLY_FEATURE_RE; on failure retry without one feature at a time, then
    fall back to default features).
    """
    src = Path(crate_dir).resolve()
    name, version = crate_name_version(src)
    result: dict = {
        "crate": name,
        "version": version,
        "root": str(src),
        "features": "default",
        "dropped_deps": [],
        "compiled": [],
        "clippy": [],
        "clippy_allowed": [],
        "dropped_outside_crate": 0,
        "seconds": None,
        "error": None,
    }
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=f"clippy-oracle-{name}-"))
    env = dict(os.environ, CARGO_TARGET_DIR=target_dir, CARGO_TERM_COLOR="never")
    env.pop("RUSTFLAGS", None)
    env.pop("CARGO_ENCODED_RUSTFLAGS", None)
    try:
        work = tmp / src.name
        shutil.copytree(src, work, symlinks=True,
                        ignore=shutil.ignore_patterns("target", "Cargo.lock"))
        for p in (work, *work.rglob("*")):  # Debian's files are read-only
            try:
                p.chmod(p.stat().st_mode | 0o200)
            except OSError:
                pass
        manifest = work / "Cargo.toml"
        original = manifest.read_text(encoding="utf-8")
        (work / ".cargo").mkdir(exist_ok=True)
        (work / ".cargo" / "config.toml").write_text(
            CARGO_CONFIG.format(registry=registry), encoding="utf-8")

        # 1. resolution: drop dependencies that the vendored registry lacks
        #    (the lockfile covers optional deps too, so they must resolve).
        dropped: set[str] = set()
        res_err = None
        for _ in range(20):
            manifest.write_text(strip_manifest(original, dropped), encoding="utf-8")
            proc = subprocess.run(["cargo", "generate-lockfile", "--offline"], cwd=work,
                                  env=env, capture_output=True, text=True, timeout=timeout)
            if proc.returncode == 0:
                res_err = None
                break
            res_err = _cargo_error(proc.stderr, _Collector(work))
            m = _MISSING_PKG_RE.search(proc.stderr)
            if not m or m.group(1) in dropped:
                break
            dropped.add(m.group(1))
        result["dropped_deps"] = sorted(dropped)
        if res_err is not None:
            result["error"] = "resolution: " + res_err
            return result

        # 2. feature sets to try, best first
        attempts: list[tuple[list[str], object]] = []
        if features_mode == "all":
            attempts.append((["--all-features"], "all"))
        elif features_mode == "auto":
            feats = candidate_features(manifest.read_text(encoding="utf-8"))
            if feats:
                attempts.append((["--features", ",".join(feats)], feats))
                for f in feats[:max_feature_retries] if len(feats) > 1 else []:
                    rest = [x for x in feats if x != f]
                    attempts.append((["--features", ",".join(rest)], rest))
        attempts.append(([], "default"))

        warn = _Collector(work)
        rc, stderr, first_err = 1, "", None
        for i, (feat_args, label) in enumerate(attempts):
            warn = _Collector(work)
            rc, msgs, stderr = _run_clippy(work, env, _lint_args("warn"), feat_args, timeout)
            for m in msgs:
                if m.get("reason") == "compiler-message":
                    warn.add(m)
            if rc == 0:
                result["features"] = label
                break
            if first_err is None:
                first_err = _cargo_error(stderr, warn)
            if i == 0 and label != "default" and len(attempts) > 2 \
                    and "could not compile" not in stderr:
                # not a compile failure a single feature could explain: go to default
                attempts[1:-1] = []
        if rc != 0:
            result["error"] = _cargo_error(stderr, warn)
        elif first_err is not None:
            result["features_error"] = _short(first_err)
        result["compiled"] = warn._sorted(warn.compiled)
        result["clippy"] = warn._sorted(warn.clippy)
        result["dropped_outside_crate"] = warn.dropped

        # 3. forced pass: what the crate's own #[allow]s hide from clippy
        if forced and rc == 0:
            feat_args = attempts[[a[1] for a in attempts].index(result["features"])][0]
            force = _Collector(work)
            rc2, msgs, stderr2 = _run_clippy(work, env, _lint_args("force-warn"),
                                             feat_args, timeout)
            for m in msgs:
                if m.get("reason") == "compiler-message":
                    force.add(m)
            if rc2 != 0:
                result["error"] = "forced pass: " + _cargo_error(stderr2, force)
            seen = set(warn.clippy)
            result["clippy_allowed"] = force._sorted(
                {k: v for k, v in force.clippy.items() if k not in seen})
    except subprocess.TimeoutExpired:
        result["error"] = f"timeout after {timeout:.0f}s"
    except Exception as exc:  # keep going over a corpus
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        result["seconds"] = round(time.monotonic() - t0, 2)
    return result


def summarize(results: list[dict]) -> str:
    lines = []
    for r in results:
        kinds: dict[str, int] = {}
        for c in r["compiled"]:
            kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
        lints: dict[str, int] = {}
        for c in r["clippy"]:
            lints[c["lint"]] = lints.get(c["lint"], 0) + 1
        status = "ok" if r["error"] is None else "ERROR: " + r["error"].splitlines()[0][:100]
        lines.append(f"{r['crate']}-{r['version']}: {r['seconds']}s compiled={len(r['compiled'])} "
                     f"{kinds} clippy={lints} allowed={len(r['clippy_allowed'])} {status}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("crates", nargs="+", help="crate directories")
    ap.add_argument("--out", required=True, help="output JSON file (a list of per-crate objects)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="crates checked in parallel (default 1; cargo already uses all cores)")
    ap.add_argument("--registry", default=DEBIAN_REGISTRY,
                    help=f"directory source replacing crates-io (default {DEBIAN_REGISTRY})")
    ap.add_argument("--target-dir", default=DEFAULT_TARGET_DIR,
                    help=f"shared CARGO_TARGET_DIR (default {DEFAULT_TARGET_DIR}); "
                         "with --jobs>1 each worker gets a subdirectory")
    ap.add_argument("--no-forced", action="store_true",
                    help="skip the --force-warn pass that fills clippy_allowed")
    ap.add_argument("--features-mode", choices=("auto", "all", "default"), default="auto",
                    help="auto (default): every feature that doesn't look nightly-only, "
                         "retrying without one feature at a time, then default features; "
                         "all: --all-features, then default; default: default features")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per cargo run, seconds")
    ap.add_argument("--indent", type=int, default=None, help="JSON indent (default compact)")
    args = ap.parse_args(argv)

    crates = [str(Path(c)) for c in args.crates]
    jobs = max(1, args.jobs)

    # Each concurrent job borrows its own target subdirectory so that cargo's
    # build-directory lock never serializes (or deadlocks) parallel runs.
    free_dirs: "queue.SimpleQueue[str]" = queue.SimpleQueue()
    for j in range(jobs):
        free_dirs.put(args.target_dir if jobs == 1 else os.path.join(args.target_dir, f"w{j}"))

    def run(crate: str) -> dict:
        tdir = free_dirs.get()
        try:
            r = check_crate(crate, registry=args.registry, target_dir=tdir,
                            forced=not args.no_forced, features_mode=args.features_mode,
                            timeout=args.timeout)
        finally:
            free_dirs.put(tdir)
        print(summarize([r]), file=sys.stderr, flush=True)
        return r

    if jobs == 1:
        results = [run(c) for c in crates]
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
            results = list(ex.map(run, crates))

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        if args.indent is None:
            # one crate per line: compact but diff-friendly
            f.write("[\n")
            f.write(",\n".join(json.dumps(r, separators=(",", ":")) for r in results))
            f.write("\n]\n")
        else:
            json.dump(results, f, indent=args.indent)
    return 0 if all(r["error"] is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
