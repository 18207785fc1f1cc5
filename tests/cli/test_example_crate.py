"""The demo crate in examples/: the README's `safety-ls check examples/` run.

The deliberately wrong lines of the example files end with `//~ rule-id`
markers (see expectations.py); the real command line, run as a subprocess
from the repository root, must report exactly those findings, and the crate
must stay a real crate that `cargo check --offline` accepts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from expectations import expected
from safety_ls.rules import rules_for_profile

REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLES = REPO / "examples"
DEFAULT_RULES = frozenset(rule.id for rule in rules_for_profile("default"))
STRUCTURED_RULES = frozenset(rule.id for rule in rules_for_profile("structured"))
# The rules the README demo promises to show (the default profile of DESIGN.md).
DEMO_RULES = frozenset(
    {
        "undocumented-unsafe-block",
        "undocumented-unsafe-impl",
        "missing-safety-doc",
        "unjustified-send-sync",
        "missing-promote",
        "missing-contiguous",
        "missing-cast",
        "cast-annotation-mismatch",
        "placeholder-annotation",
        "vague-annotation",
    }
)


def _environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "FORCE_COLOR"}
    env["NO_COLOR"] = "1"
    return env


def _check(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "safety_ls", "check", "examples", "--no-cache", *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_environment(),
        timeout=120,
    )


def _example_sources() -> list[Path]:
    return sorted(
        path for path in EXAMPLES.rglob("*.rs") if "target" not in path.relative_to(EXAMPLES).parts
    )


def _markers(rules: frozenset[str]) -> set[tuple[str, int, str]]:
    marked = set()
    for path in _example_sources():
        name = path.relative_to(REPO).as_posix()
        marked |= {(name, line, rule) for line, rule in expected(path, set(rules))}
    return marked


def _json_findings(*extra: str) -> tuple[subprocess.CompletedProcess[str], set[tuple[str, int, str]]]:
    result = _check("--format", "json", *extra)
    assert result.returncode == 1, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    document = json.loads(result.stdout)
    assert document["version"] == 1
    findings = {(d["path"], d["line"], d["rule"]) for d in document["diagnostics"]}
    assert len(findings) == len(document["diagnostics"]), "a finding is reported twice"
    return result, findings


def _describe(missing: set[tuple[str, int, str]], extra: set[tuple[str, int, str]]) -> str:
    report = []
    for title, items in (("marked but not reported", missing), ("reported but not marked", extra)):
        for path, line, rule in sorted(items):
            text = (REPO / path).read_text(encoding="utf-8").splitlines()[line - 1].strip()
            report.append(f"{title}: {path}:{line} {rule}: {text}")
    return "\n".join(report)


def test_demo_rules_are_the_default_profile() -> None:
    assert DEMO_RULES <= DEFAULT_RULES, f"not in the default profile: {sorted(DEMO_RULES - DEFAULT_RULES)}"


def test_every_default_rule_fires() -> None:
    result, findings = _json_findings()
    assert not result.stderr.strip(), result.stderr  # no warnings, no file that could not be checked
    fired = {rule for _, _, rule in findings}
    assert DEFAULT_RULES <= fired, f"default-profile rules the demo does not show: {sorted(DEFAULT_RULES - fired)}"
    assert 12 <= len(findings) <= 25, f"{len(findings)} findings: the demo output should stay readable"


def test_findings_are_exactly_the_marked_lines() -> None:
    _, findings = _json_findings()
    marked = _markers(DEFAULT_RULES)
    assert findings == marked, _describe(marked - findings, findings - marked)


def test_structured_profile_adds_incomplete_safety_doc() -> None:
    _, findings = _json_findings("--profile", "structured")
    marked = _markers(STRUCTURED_RULES)
    assert findings == marked, _describe(marked - findings, findings - marked)
    assert any(rule == "incomplete-safety-doc" for _, _, rule in findings)
    _, default_findings = _json_findings()
    assert not any(rule == "incomplete-safety-doc" for _, _, rule in default_findings)


def test_text_output_quotes_the_source_line_with_a_caret() -> None:
    _, findings = _json_findings()
    result = _check()
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    for path, line, rule in sorted(findings):
        header = next(
            (index for index, text in enumerate(lines) if text.startswith(f"{path}:{line}:") and f" {rule} " in text),
            None,
        )
        assert header is not None, f"no text diagnostic for {path}:{line} {rule}"
        column = int(lines[header].split(":")[2])
        source = (REPO / path).read_text(encoding="utf-8").splitlines()[line - 1]
        quoted, caret = lines[header + 2], lines[header + 3]
        assert quoted == f"{line} | {source.expandtabs(4)}"
        gutter = " " * len(str(line)) + " | "
        assert caret.startswith(gutter) and caret.strip(" |").startswith("^")
        assert caret.index("^") - len(gutter) == len(source[: column - 1].expandtabs(4))
    assert f"Found {len(findings)} findings in" in result.stdout


def test_cargo_check_offline_accepts_the_crate(tmp_path: Path) -> None:
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("`cargo` is not on PATH, so the example crate cannot be compiled here")
    result = subprocess.run(
        [cargo, "check", "--offline", "--quiet"],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        env={**os.environ, "CARGO_TARGET_DIR": str(tmp_path / "target")},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr


def test_build_output_is_ignored() -> None:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(
        [git, "check-ignore", "-q", "examples/target/debug/libgpu_kernels_demo.rlib"], cwd=REPO
    )
    assert result.returncode == 0, "examples/target/ is not ignored by git"
