"""The wheel: what it ships, and that it works installed into a clean virtualenv.

The wheel is built once per session from a snapshot of the source tree (see
project_snapshot.py; building the checkout itself would write build/ and
*.egg-info into it) with ``pip wheel --no-deps``, which fetches the build
backend from the package index (pip's cache makes repeat runs fast).  The
clean environment is a ``venv --without-pip`` that this environment's pip
installs into (``pip --python``), dependencies coming from the index / pip's
wheel cache.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
import tomllib
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from project_snapshot import PROJECT_ROOT, project_files, snapshot

PACKAGE_DIR = PROJECT_ROOT / "server" / "safety_ls"
SNIPPETS_DIR = PROJECT_ROOT / "snippets"
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# pyproject.toml takes the version from the package (`dynamic`); the wheel must carry that one.
VERSION = re.search(r'^__version__ = "([^"]+)"$', (PACKAGE_DIR / "__init__.py").read_text(encoding="utf-8"), re.M).group(1)


@dataclass(frozen=True)
class Wheel:
    path: Path
    names: frozenset[str]

    def read(self, name: str) -> str:
        with zipfile.ZipFile(self.path) as zf:
            return zf.read(name).decode("utf-8")


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("timeout", 600)
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


def _show(proc: subprocess.CompletedProcess) -> str:
    return f"{proc.args}\nexit code {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


def _source_files(directory: Path) -> list[str]:
    """Project files under ``directory`` (the ones the snapshot holds), relative to it, without bytecode."""
    prefix = directory.relative_to(PROJECT_ROOT).as_posix() + "/"
    return sorted(
        f[len(prefix):] for f in project_files()
        if f.startswith(prefix) and "__pycache__/" not in f and not f.endswith((".pyc", ".pyo"))
    )


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Wheel:
    base = tmp_path_factory.mktemp("packaging")
    source = snapshot(base / "src")
    dist = base / "dist"
    proc = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                 "-w", str(dist), str(source)], env=_clean_env())
    assert proc.returncode == 0, _show(proc)
    wheels = list(dist.glob("*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {dist}: {wheels}\n{_show(proc)}"
    with zipfile.ZipFile(wheels[0]) as zf:
        names = frozenset(zf.namelist())
    return Wheel(wheels[0], names)


@pytest.fixture(scope="session")
def installed(wheel: Wheel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with only the wheel and its dependencies; returns its bin directory."""
    env_dir = tmp_path_factory.mktemp("clean-venv") / "venv"
    venv.EnvBuilder(with_pip=False, clear=True).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    cmd = [sys.executable, "-m", "pip", "--python", str(python), "install", "--disable-pip-version-check",
           "--no-input", str(wheel.path)]
    proc = _run(cmd, env=_clean_env())
    if proc.returncode != 0 and "no such option: --python" in proc.stderr:  # pip < 22.3
        venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
        proc = _run([str(python), "-m", "pip", "install", "--no-input", str(wheel.path)], env=_clean_env())
    assert proc.returncode == 0, _show(proc)
    return bindir


@pytest.fixture
def crate(tmp_path: Path) -> Path:
    """A tiny crate outside the repository, with one undocumented unsafe block."""
    root = tmp_path / "tiny"
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text('[package]\nname = "tiny"\nversion = "0.1.0"\nedition = "2021"\n')
    (root / "src" / "lib.rs").write_text(
        "//! Tiny.\n"
        "/// Reads the first byte.\n"
        "pub fn first(bytes: &[u8]) -> u8 {\n"
        "    assert!(!bytes.is_empty());\n"
        "    unsafe { *bytes.get_unchecked(0) }\n"
        "}\n"
    )
    return root


# --------------------------------------------------------------------------
# contents


def test_wheel_ships_every_module(wheel: Wheel) -> None:
    assert "safety_ls/cli/main.py" in wheel.names
    rules = sorted(p.name for p in (PACKAGE_DIR / "rules").glob("*.py"))
    assert rules, "no rule modules found in the source tree"
    missing_rules = [r for r in rules if f"safety_ls/rules/{r}" not in wheel.names]
    assert not missing_rules, f"rule modules missing from {wheel.path.name}: {missing_rules}"
    # every module of every subpackage: a subpackage left out of [tool.setuptools] packages shows here
    missing = [f for f in _source_files(PACKAGE_DIR) if f"safety_ls/{f}" not in wheel.names]
    assert not missing, f"files of server/safety_ls missing from {wheel.path.name}: {missing}"


def test_wheel_ships_snippets(wheel: Wheel) -> None:
    files = _source_files(SNIPPETS_DIR)
    assert "__init__.py" in files
    missing = [f for f in files if f"safety_ls/snippets/{f}" not in wheel.names]
    assert not missing, (
        f"snippets/ files missing from {wheel.path.name}: {missing} "
        "(extend [tool.setuptools.package-data] in pyproject.toml)")


def test_wheel_has_nothing_outside_the_package(wheel: Wheel) -> None:
    dist_info = f"safety_ls-{VERSION}.dist-info/"
    stray = sorted(n for n in wheel.names if not n.startswith(("safety_ls/", dist_info)))
    assert not stray, f"unexpected files in {wheel.path.name}: {stray}"
    bytecode = sorted(n for n in wheel.names if n.endswith((".pyc", ".pyo")) or "__pycache__" in n)
    assert not bytecode, f"bytecode in {wheel.path.name}: {bytecode}"


def test_wheel_metadata_and_entry_point(wheel: Wheel) -> None:
    dist_info = f"safety_ls-{VERSION}.dist-info"
    metadata = wheel.read(f"{dist_info}/METADATA")
    assert "Name: safety-ls\n" in metadata
    assert f"Version: {VERSION}\n" in metadata
    for dep in PYPROJECT["project"]["dependencies"]:
        name = dep.split(">")[0].split("<")[0].split("=")[0].strip()
        assert f"Requires-Dist: {name}" in metadata, f"{name} not declared in METADATA"
    entry_points = configparser.ConfigParser(delimiters=("=",))
    entry_points.optionxform = str  # keep case
    entry_points.read_string(wheel.read(f"{dist_info}/entry_points.txt"))
    assert entry_points.has_section("console_scripts")
    assert entry_points["console_scripts"].get("safety-ls", "").strip() == "safety_ls.cli.main:main"


# --------------------------------------------------------------------------
# installed into a clean environment


def test_installed_version(installed: Path, tmp_path: Path) -> None:
    proc = _run([str(installed / "safety-ls"), "--version"], cwd=tmp_path, env=_clean_env())
    assert proc.returncode == 0, _show(proc)
    assert proc.stdout.strip() == f"safety-ls {VERSION}", _show(proc)
    proc = _run([str(installed / "python"), "-m", "safety_ls", "--version"], cwd=tmp_path, env=_clean_env())
    assert proc.returncode == 0 and proc.stdout.strip() == f"safety-ls {VERSION}", _show(proc)


def test_installed_package_is_the_wheel(installed: Path, tmp_path: Path) -> None:
    code = "import safety_ls, safety_ls.snippets; print(safety_ls.__file__)"
    proc = _run([str(installed / "python"), "-c", code], cwd=tmp_path, env=_clean_env())
    assert proc.returncode == 0, _show(proc)
    imported = Path(proc.stdout.strip()).resolve()
    assert installed.parent.resolve() in imported.parents, f"safety_ls imported from {imported}, not the clean venv"
    # the templates are found through importlib.resources, as the package looks them up
    code = ("from importlib import resources\n"
            "root = resources.files('safety_ls.snippets')\n"
            "def walk(d, prefix=''):\n"
            "    for e in d.iterdir():\n"
            "        if e.is_dir():\n"
            "            if e.name != '__pycache__': yield from walk(e, prefix + e.name + '/')\n"
            "        elif not e.name.endswith(('.pyc', '.pyo')): e.read_bytes(); yield prefix + e.name\n"
            "print('\\n'.join(sorted(walk(root))))\n")
    proc = _run([str(installed / "python"), "-c", code], cwd=tmp_path, env=_clean_env())
    assert proc.returncode == 0, _show(proc)
    assert proc.stdout.split() == _source_files(SNIPPETS_DIR), _show(proc)


def test_installed_check_reports_finding(installed: Path, crate: Path) -> None:
    env = _clean_env()
    proc = _run([str(installed / "safety-ls"), "check"], cwd=crate, env=env)
    assert proc.returncode == 1, _show(proc)
    assert "src/lib.rs:5:5: undocumented-unsafe-block" in proc.stdout, _show(proc)

    proc = _run([str(installed / "safety-ls"), "check", "--format", "json", "--no-cache", str(crate)],
                cwd=crate.parent, env=env)
    assert proc.returncode == 1, _show(proc)
    assert "undocumented-unsafe-block" in proc.stdout, _show(proc)

    proc = _run([str(installed / "safety-ls"), "rules"], cwd=crate, env=env)
    assert proc.returncode == 0 and "undocumented-unsafe-block" in proc.stdout, _show(proc)
