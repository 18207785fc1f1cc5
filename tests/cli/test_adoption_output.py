"""What a large codebase needs from `check`: exit codes that follow severity, output that scales.

Through the real CLI: `--fail-on`, `--exit-zero`, severities in text, `--statistics`,
`--quiet`, `--output-format concise`, per-file counts, the `fix` hint, and progress on a
terminal (a real pseudo-terminal) but not in a pipe.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli

UNSAFE = "fn g(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"  # undocumented-unsafe-block
CAST = "fn c(x: u64) -> u32 {\n    x as u32\n}\n"  # missing-cast


def project(tmp_path: Path, severities: str = "") -> Path:
    (tmp_path / "safety-ls.toml").write_text(f"[severity]\n{severities}", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.rs").write_text(UNSAFE + CAST, encoding="utf-8")
    (tmp_path / "src" / "b.rs").write_text(CAST, encoding="utf-8")
    return tmp_path


def check(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = run_cli("check", "--no-cache", *args, cwd=cwd)
    assert "Traceback" not in done.stderr, done.stderr
    return done


# --- exit codes follow severity -----------------------------------------------------------


def test_hints_and_info_do_not_fail_a_default_run(tmp_path: Path) -> None:
    root = project(tmp_path, 'missing-cast = "hint"\nundocumented-unsafe-block = "info"\n')
    done = check("src", cwd=root)
    assert done.returncode == 0
    assert "Found 3 findings in 2 files." in done.stdout  # still reported


def test_a_warning_fails_a_default_run(tmp_path: Path) -> None:
    root = project(tmp_path, 'missing-cast = "hint"\n')
    assert check("src", cwd=root).returncode == 1


@pytest.mark.parametrize(
    ("fail_on", "exit_code"), [("error", 0), ("warning", 0), ("info", 1), ("hint", 1)]
)
def test_fail_on_sets_the_lowest_severity_that_fails(tmp_path: Path, fail_on: str, exit_code: int) -> None:
    root = project(tmp_path, 'missing-cast = "hint"\nundocumented-unsafe-block = "info"\n')
    assert check("src", "--fail-on", fail_on, cwd=root).returncode == exit_code


def test_fail_on_error_fails_on_an_error(tmp_path: Path) -> None:
    root = project(tmp_path, 'undocumented-unsafe-block = "error"\n')
    assert check("src", "--fail-on", "error", cwd=root).returncode == 1


def test_exit_zero_wins_over_fail_on(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert check("src", "--fail-on", "hint", "--exit-zero", cwd=root).returncode == 0


def test_text_output_shows_each_findings_severity(tmp_path: Path) -> None:
    root = project(tmp_path, 'missing-cast = "hint"\n')
    lines = check("src/b.rs", cwd=root).stdout.splitlines()
    caret = next(line for line in lines if "^" in line)
    assert caret.endswith("^^^^^^^^ hint")  # under `x as u32`
    assert "       1  missing-cast (hint)" in lines


# --- output for big trees -------------------------------------------------------------------


def test_concise_prints_one_line_per_finding_then_the_summary(tmp_path: Path) -> None:
    root = project(tmp_path)
    done = check("src", "--output-format", "concise", cwd=root)
    findings = done.stdout.split("\n\n")[0].splitlines()
    assert findings == [
        "src/a.rs:2:5: undocumented-unsafe-block " + findings[0].split(" ", 2)[2],
        "src/a.rs:5:5: missing-cast " + findings[1].split(" ", 2)[2],
        "src/b.rs:2:5: missing-cast " + findings[2].split(" ", 2)[2],
    ]
    assert all(len(line.split(" ", 2)[2]) > 10 for line in findings)  # the message follows the rule
    assert "Found 3 findings in 2 files." in done.stdout


def test_quiet_prints_the_findings_and_nothing_else(tmp_path: Path) -> None:
    root = project(tmp_path)
    done = check("src", "--output-format", "concise", "--quiet", cwd=root)
    assert done.returncode == 1
    assert len(done.stdout.splitlines()) == 3
    assert "Found" not in done.stdout and "fix" not in done.stdout


def test_the_summary_counts_per_file_and_says_fix_can_insert_templates(tmp_path: Path) -> None:
    root = project(tmp_path)
    lines = check("src", cwd=root).stdout.splitlines()
    by_file = lines.index("By file:")
    assert lines[by_file + 1 : by_file + 3] == ["       2  src/a.rs", "       1  src/b.rs"]
    assert any(line.startswith("`safety-ls fix` can insert annotation templates for 3 of them") for line in lines)


def test_the_summary_names_the_ten_busiest_files_of_many(tmp_path: Path) -> None:
    root = project(tmp_path)
    for number in range(12):
        (root / "src" / f"m{number:02}.rs").write_text(CAST * (number + 1), encoding="utf-8")
    lines = check("src", cwd=root).stdout.splitlines()
    start = lines.index("Files with the most findings:")
    assert lines[start + 1] == "      12  src/m11.rs"
    assert lines[start + 11] == "  ... and 4 more files (--statistics lists them all)"


def test_statistics_counts_per_rule_with_fixable_then_per_file(tmp_path: Path) -> None:
    root = project(tmp_path, 'missing-cast = "hint"\n')
    done = check("src", "--statistics", cwd=root)
    assert done.returncode == 1
    rows = [line.split() for line in done.stdout.splitlines() if line.strip()]
    assert rows[0] == ["count", "fixable", "rule", "severity"]
    assert rows[1] == ["2", "2", "missing-cast", "hint"]
    assert rows[2] == ["1", "1", "undocumented-unsafe-block", "warning"]
    assert rows[3][:2] == ["3", "3"]
    assert ["2", "src/a.rs"] in rows and ["1", "src/b.rs"] in rows
    assert "^" not in done.stdout  # no individual findings


def test_statistics_as_json(tmp_path: Path) -> None:
    root = project(tmp_path)
    document = json.loads(check("src", "--statistics", "--format", "json", cwd=root).stdout)
    assert document["rules"][0] == {"rule": "missing-cast", "severity": "warning", "count": 2, "fixable": 2}
    assert document["files"] == [{"path": "src/a.rs", "count": 2}, {"path": "src/b.rs", "count": 1}]


# --- progress -------------------------------------------------------------------------------


def _many_files(root: Path, count: int) -> None:
    body = (UNSAFE + CAST) * 40
    for number in range(count):
        (root / "src" / f"f{number:03}.rs").write_text(body.replace("fn g(", f"fn g{number}(").replace("fn c(", f"fn c{number}("), encoding="utf-8")


def _stderr_on_a_terminal(args: list[str], cwd: Path) -> str:
    """Runs the CLI with stderr on a pseudo-terminal and stdout in a pipe, as `safety-ls check . | less` does."""
    controller, terminal = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    process = subprocess.Popen(
        [sys.executable, "-m", "safety_ls", *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=terminal, env=environment
    )
    os.close(terminal)
    received = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        received += chunk
    process.wait(timeout=300)
    os.close(controller)
    return received.decode("utf-8", "replace")


def test_progress_shows_on_a_terminal_for_a_long_run(tmp_path: Path) -> None:
    root = project(tmp_path)
    _many_files(root, 300)  # over a second's work even on a fast machine, so progress shows
    shown = _stderr_on_a_terminal(["check", "--no-cache", "--jobs", "1", "src"], root)
    assert "safety-ls: checked " in shown and " / 302 files" in shown
    assert "\r\x1b[K" in shown  # the progress line is erased at the end


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    root = project(tmp_path)
    _many_files(root, 150)
    done = check("--jobs", "1", "src", cwd=root)
    assert "checked" not in done.stderr
