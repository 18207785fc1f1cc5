"""The VS Code extension builds: type check, esbuild bundle, `vsce package`; the .vsix holds the bundle
and the project's snippets file unchanged. Its server discovery runs in node against real interpreters."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from editors import EXTENSION, ROOT, SNIPPETS_FILE, npm, require_node_modules, vsix  # noqa: F401
from safety_ls.config.loader import settings_from_mapping
from safety_ls.lsp.session import CLIENT_ONLY_KEYS

MANIFEST = json.loads((EXTENSION / "package.json").read_text())
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def test_typescript_type_check_passes() -> None:
    require_node_modules(EXTENSION)
    npm(EXTENSION, "run", "typecheck")


def test_vsix_holds_the_bundle_and_the_snippets_unchanged(vsix: Path) -> None:  # noqa: F811 - fixture
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        assert "extension/dist/extension.js" in names
        assert archive.read("extension/snippets/safety-ls.code-snippets") == SNIPPETS_FILE.read_bytes()
        packaged = json.loads(archive.read("extension/package.json"))
        assert "extension/media/screenshot.png" in names
    assert not any(name.startswith(("extension/node_modules/", "extension/src/")) for name in names)
    [contributed] = packaged["contributes"]["snippets"]
    assert contributed == {"language": "rust", "path": "./snippets/safety-ls.code-snippets"}
    print(f"\n.vsix size: {vsix.stat().st_size / 1024:.1f} KiB")


def test_bundle_inlines_the_language_client(vsix: Path) -> None:  # noqa: F811 - fixture
    """Packaged with --no-dependencies: the bundle must carry vscode-languageclient itself."""
    bundle = (EXTENSION / "dist" / "extension.js").read_text()
    assert "textDocument/publishDiagnostics" in bundle
    assert 'require("vscode-languageclient' not in bundle


def test_workspace_trust_is_limited_and_launch_settings_restricted() -> None:
    trust = MANIFEST["capabilities"]["untrustedWorkspaces"]
    assert trust["supported"] == "limited"
    assert {"safety-ls.server-path", "safety-ls.interpreter", "safety-ls.gpu-runner"} <= set(trust["restrictedConfigurations"])


# One example value per checker setting the extension contributes, validated by the server's own reader.
CHECKER_SETTING_EXAMPLES = {
    "profile": "structured",
    "select": ["missing-cast"],
    "ignore": ["vague-annotation"],
    "severity": {"missing-cast": "info"},
}


def test_every_contributed_setting_is_one_the_server_accepts() -> None:
    """The server rejects unknown keys: each setting is a checker key it validates, or an editor-only key."""
    keys = {name.removeprefix("safety-ls.").split(".")[0] for name in MANIFEST["contributes"]["configuration"]["properties"]}
    editor_only = keys - set(CHECKER_SETTING_EXAMPLES)
    assert editor_only <= CLIENT_ONLY_KEYS, f"the server would reject {sorted(editor_only - CLIENT_ONLY_KEYS)}"
    for key, example in CHECKER_SETTING_EXAMPLES.items():
        assert key in keys
        settings_from_mapping({key: example})


def test_contributed_commands_have_titles_and_do_not_clash_with_server_commands() -> None:
    """vscode-languageclient registers the server's commands under their own ids; ours must differ."""
    ours = {command["command"] for command in MANIFEST["contributes"]["commands"]}
    assert ours == {
        "safety-ls.restartServer", "safety-ls.fixAllInFile", "safety-ls.openAuditReport",
        "safety-ls.validateKernelAtCursor", "safety-ls.showOutput",
    }
    assert not ours & {"safety-ls.fixAll", "safety-ls.validateKernel", "safety-ls.auditWorkspace"}


# --- finding the server (src/serverLocator.ts, bundled for node) ---------------------------------


@pytest.fixture(scope="module")
def locator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_node_modules(EXTENSION)
    out = tmp_path_factory.mktemp("locator") / "locator.cjs"
    subprocess.run(
        [str(EXTENSION / "node_modules" / ".bin" / "esbuild"), "src/serverLocator.ts", "--bundle", "--platform=node",
         "--format=cjs", f"--outfile={out}", "--log-level=warning"],
        cwd=EXTENSION, check=True,
    )
    return out


def locate(locator: Path, settings: dict, path_dirs: list[str] | None = None) -> dict:
    script = f"require({json.dumps(str(locator))}).locateServer({json.dumps(settings)}).then(r => console.log(JSON.stringify(r)))"
    env = dict(os.environ)
    if path_dirs is not None:
        env["PATH"] = os.pathsep.join(path_dirs)
    node = shutil.which("node")
    assert node
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, env=env, timeout=60, check=True)
    return json.loads(done.stdout)


def settings(**values: object) -> dict:
    return {"serverPath": None, "interpreter": None, "venvFolders": [], **values}


@pytest.fixture(scope="module")
def python_without_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv / "bin" / "python"


def test_configured_interpreter_with_the_package_starts_it(locator: Path) -> None:
    result = locate(locator, settings(interpreter=str(VENV_PYTHON)))
    assert result["found"] and result["launch"] == {"command": str(VENV_PYTHON), "args": ["-m", "safety_ls"]}
    assert result["version"] == "0.1.0"


def test_workspace_venv_is_found(locator: Path, tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    result = locate(locator, settings(venvFolders=[str(tmp_path)]))
    assert result["found"] and result["origin"] == "the workspace's .venv"
    assert result["launch"]["command"] == str(tmp_path / ".venv" / "bin" / "python")


def test_server_path_as_command_line(locator: Path) -> None:
    result = locate(locator, settings(serverPath=[str(VENV_PYTHON), "-m", "safety_ls"]))
    assert result["found"] and result["origin"] == "safety-ls.server-path"


def test_interpreter_without_the_package_says_how_to_install_it(locator: Path, python_without_package: Path) -> None:
    result = locate(locator, settings(interpreter=str(python_without_package)))
    assert not result["found"]
    assert result["attempts"][0]["outcome"] == "no-package"
    assert f"`{python_without_package} -m pip install /path/to/safety-ls`" in result["advice"]


def test_missing_interpreter_is_named(locator: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-python"
    result = locate(locator, settings(interpreter=str(missing)))
    assert not result["found"] and result["attempts"][0]["outcome"] == "not-found"
    assert str(missing) in result["advice"] and "does not exist" in result["advice"]


def test_without_python_on_path_says_to_install_python(locator: Path, tmp_path: Path) -> None:
    result = locate(locator, settings(), path_dirs=[str(tmp_path)])
    assert not result["found"]
    assert [a["outcome"] for a in result["attempts"]] == ["not-found", "not-found"]
    assert result["advice"].startswith("No Python was found") and "pip install /path/to/safety-ls" in result["advice"]


def test_python_on_path_without_the_package_gets_pip_and_pipx_advice(
    locator: Path, tmp_path: Path, python_without_package: Path
) -> None:
    wrapper = tmp_path / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec "{python_without_package}" "$@"\n')
    wrapper.chmod(0o755)
    result = locate(locator, settings(), path_dirs=[str(tmp_path)])
    assert not result["found"]
    assert "`python3 -m pip install /path/to/safety-ls`" in result["advice"] and "pipx install /path/to/safety-ls" in result["advice"]
