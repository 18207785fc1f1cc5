"""The VS Code extension in real VS Code: code-server 4.100.3 with the built .vsix, driven in headless
Chromium by tests/vscode/drive.mjs (playwright-core).

The workspace is a copy of examples/ whose `.venv` links to this checkout's, so the extension finds
the server the way it finds a user's (the workspace's .venv). A person's steps: open a file, see the
squiggle and the Problems panel, apply the quick fix, save, insert a snippet, save. The files on disk
are checked here; screenshots land in test-artifacts/vscode/.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from editors import (  # noqa: F401
    ARTIFACTS,
    CODE_SERVER,
    ROOT,
    require_file,
    require_node_modules,
    require_program,
    vsix,
)

DRIVER_DIR = ROOT / "tests" / "vscode"
SAFETY_LS = ROOT / ".venv" / "bin" / "safety-ls"
FILE = "src/kernel_cache.rs"
FIX_RULE = "undocumented-unsafe-impl"
FIX_LINE = 24  # 1-based: `unsafe impl Sync for KernelCache {}`
WARM_FILE, WARM_LINE = "src/buffers.rs", 22
SNIPPET_PREFIX, SNIPPET_TEXT = "promote", "// PROMOTE: <reason>"
FIX_ALL_FILE = "src/layer_norm.rs"
LAUNCH_FILE, LAUNCH_LINE = "src/quant_matmul.rs", 84  # a kernel launch: the "Validate on GPU" lens
USER_SETTINGS = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.welcomePage.walkthroughs.openOnInstall": False,
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "update.mode": "none",
    "telemetry.telemetryLevel": "off",
    "chat.commandCenter.enabled": False,
    "editor.minimap.enabled": False,
    "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
    "editor.wordBasedSuggestions": "off",
    "editor.snippetSuggestions": "top",
    "files.refactoring.autoSave": True,  # the default: "Fix All in File" (workspace/applyEdit) is saved
    # A setting the extension passes to the server: the finding shows as an error squiggle.
    "safety-ls.severity": {FIX_RULE: "error"},
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _code_server(data: Path, *args: str) -> list[str]:
    return ["node", str(CODE_SERVER), "--user-data-dir", str(data / "user"), "--extensions-dir", str(data / "ext"), *args]


@contextmanager
def running_code_server(data: Path, workspace: Path, trusted: bool) -> Iterator[str]:
    port = _free_port()
    log = (data / "code-server.log").open("w")
    process = subprocess.Popen(
        _code_server(
            data, "--auth", "none", "--bind-addr", f"127.0.0.1:{port}", "--disable-telemetry",
            "--disable-update-check", "--ignore-last-opened", *(["--disable-workspace-trust"] if trusted else []),
            str(workspace),
        ),
        env=_environment(data),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the extension host and the server go with it
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"code-server exited: {(data / 'code-server.log').read_text()}"
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "code-server did not answer /healthz within 60 s"
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        try:  # what is left of the group (the extension host, the language server)
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        log.close()


def _environment(data: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(data / "config"), "XDG_DATA_HOME": str(data / "share")}


def _workspace(path: Path) -> Path:
    shutil.copytree(ROOT / "examples", path, ignore=shutil.ignore_patterns("target"))
    return path


def _drive(scenario: str, vsix: Path, tmp_path: Path, workspace: Path, settings: dict, trusted: bool) -> tuple[dict, Path]:
    """Installs the .vsix into a fresh code-server, serves `workspace`, runs drive.mjs's `scenario`."""
    require_file(CODE_SERVER, "code-server 4.100.3")
    chromium = require_program("chromium", "Debian's chromium")
    require_node_modules(DRIVER_DIR)
    artifacts = ARTIFACTS / "vscode" / scenario
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    data = tmp_path / "code-server"
    (data / "user" / "User").mkdir(parents=True)
    (data / "user" / "User" / "settings.json").write_text(json.dumps({**USER_SETTINGS, **settings}))
    installed = subprocess.run(
        _code_server(data, "--install-extension", str(vsix)), env=_environment(data), capture_output=True, text=True, timeout=120
    )
    assert installed.returncode == 0 and "safety-ls" in installed.stdout, installed.stdout + installed.stderr
    checked = subprocess.run(
        [str(SAFETY_LS), "check", "--format", "json", "--no-cache", str(workspace / FILE)], capture_output=True, text=True
    )
    config = {
        "scenario": scenario, "chromium": chromium, "artifacts": str(artifacts), "workspace": str(workspace),
        "file": FILE, "expectedFindings": len(json.loads(checked.stdout)["diagnostics"]),
        "fixLine": FIX_LINE, "fixRule": FIX_RULE, "snippetPrefix": SNIPPET_PREFIX,
        "warmFile": WARM_FILE, "warmLine": WARM_LINE,
        "fixAllFile": FIX_ALL_FILE, "launchFile": LAUNCH_FILE, "launchLine": LAUNCH_LINE,
    }
    (tmp_path / "drive.json").write_text(json.dumps(config))
    with running_code_server(data, workspace, trusted) as url:
        config["url"] = url
        (tmp_path / "drive.json").write_text(json.dumps(config))
        drive = subprocess.run(
            ["node", str(DRIVER_DIR / "drive.mjs"), str(tmp_path / "drive.json")],
            cwd=DRIVER_DIR, capture_output=True, text=True, timeout=300,
        )
    shutil.copy(data / "code-server.log", artifacts / "code-server.log")
    assert drive.returncode == 0, f"{drive.stdout}\n{drive.stderr}\n(screenshots in {artifacts})"
    return json.loads(drive.stdout.strip().splitlines()[-1]), artifacts


def test_quick_fix_snippet_and_commands_in_code_server(vsix: Path, tmp_path: Path) -> None:  # noqa: F811 - fixture
    workspace = _workspace(tmp_path / "workspace")
    (workspace / ".venv").symlink_to(ROOT / ".venv")  # found the way a user's is
    expected = _workspace(tmp_path / "expected")
    for path, rules in ((FILE, ["--select", FIX_RULE]), (FIX_ALL_FILE, [])):
        fixed = subprocess.run([str(SAFETY_LS), "fix", str(expected / path), *rules], capture_output=True, text=True)
        assert fixed.returncode in (0, 1), fixed.stderr
        assert (expected / path).read_text() != (workspace / path).read_text()

    result, artifacts = _drive("trusted", vsix, tmp_path, workspace, {}, trusted=True)
    print(f"\nVS Code (code-server 4.100.3): {result['timings']}")

    after_fix = (artifacts / "after-quickfix.rs").read_text()
    assert after_fix == (expected / FILE).read_text(), "the quick fix saved something else than `safety-ls fix` writes"
    after_snippet = (artifacts / "after-snippet.rs").read_text()
    assert after_snippet == after_fix + SNIPPET_TEXT
    assert (artifacts / "after-fix-all.rs").read_text() == (expected / FIX_ALL_FILE).read_text()
    assert result["timings"]["audit"] in ("report", "not-in-server")


def test_untrusted_workspace_checks_but_refuses_the_gpu_runner(vsix: Path, tmp_path: Path) -> None:  # noqa: F811
    """Restricted mode: the workspace's .venv is not run (the interpreter comes from user settings)."""
    workspace = _workspace(tmp_path / "workspace")
    settings = {"security.workspace.trust.enabled": True, "safety-ls.interpreter": str(ROOT / ".venv" / "bin" / "python")}
    _drive("untrusted", vsix, tmp_path, workspace, settings, trusted=False)
