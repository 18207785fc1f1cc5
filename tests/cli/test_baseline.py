"""`check --write-baseline FILE` and `check --baseline FILE`, through the real CLI.

A baseline records today's findings by fingerprint (rule, file, the text of the
flagged line and its neighbours, an occurrence index), so later runs report only
new findings, even after lines were inserted above the recorded ones.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli

CODE = """\
use std::ffi::c_void;

fn first(p: *const u8) -> u8 {
    unsafe { *p }
}

fn second(len: usize) -> u32 {
    let t = unsafe { f() };
    let u = unsafe { f() };
    len as u32
}
"""


def check(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = run_cli("check", "--no-cache", *args, cwd=cwd)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def reported(done: subprocess.CompletedProcess[str]) -> list[tuple[int, str]]:
    return [(d["line"], d["rule"]) for d in json.loads(done.stdout)["diagnostics"]]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text(CODE, encoding="utf-8")
    return tmp_path


def write_baseline(project: Path) -> subprocess.CompletedProcess[str]:
    done = check("src", "--format", "json", "--write-baseline", "safety-baseline.json", cwd=project)
    assert done.returncode == 0, done.stderr
    return done


def test_write_baseline_records_every_finding_and_exits_zero(project: Path) -> None:
    before = check("src", "--format", "json", cwd=project)
    assert before.returncode == 1 and len(reported(before)) == 4
    done = write_baseline(project)
    assert reported(done) == []
    assert "recorded 4 findings from 1 of 1 checked file(s) in safety-baseline.json" in done.stderr
    document = json.loads((project / "safety-baseline.json").read_text(encoding="utf-8"))
    assert document["version"] == 1
    assert [(e["path"], e["line"], e["rule"]) for e in document["findings"]] == [
        ("src/lib.rs", 4, "undocumented-unsafe-block"),
        ("src/lib.rs", 8, "undocumented-unsafe-block"),
        ("src/lib.rs", 9, "undocumented-unsafe-block"),
        ("src/lib.rs", 10, "missing-cast"),
    ]
    assert document["findings"][1]["text"] == "let t = unsafe { f() };"


def test_baseline_hides_the_recorded_findings(project: Path) -> None:
    write_baseline(project)
    done = check("src", "--format", "json", "--baseline", "safety-baseline.json", cwd=project)
    assert done.returncode == 0
    assert reported(done) == []
    assert "baseline safety-baseline.json: 4 known findings not shown" in done.stderr


def test_baseline_survives_lines_inserted_above_the_findings(project: Path) -> None:
    write_baseline(project)
    source = project / "src" / "lib.rs"
    moved = "//! A crate header.\n\nuse std::fmt;\n\n" + CODE.replace(
        "fn second", "/// Docs written later.\n#[inline]\nfn second"
    )
    source.write_text(moved, encoding="utf-8")
    plain = check("src", "--format", "json", cwd=project)
    assert [line for line, _ in reported(plain)] == [8, 14, 15, 16]  # every finding moved down
    done = check("src", "--format", "json", "--baseline", "safety-baseline.json", cwd=project)
    assert done.returncode == 0, done.stdout
    assert reported(done) == []


def test_a_line_edited_next_to_a_finding_keeps_its_baseline_entry(project: Path) -> None:
    write_baseline(project)
    source = project / "src" / "lib.rs"
    source.write_text(CODE.replace("    let t = unsafe { f() };\n", "    let s = 1;\n    let t = unsafe { f() };\n"), encoding="utf-8")
    done = check("src", "--format", "json", "--baseline", "safety-baseline.json", cwd=project)
    assert reported(done) == [] and done.returncode == 0


def test_new_findings_are_reported_and_fail(project: Path) -> None:
    write_baseline(project)
    source = project / "src" / "lib.rs"
    source.write_text(CODE + "\nfn third(x: u64) -> u8 {\n    x as u8\n}\n", encoding="utf-8")
    done = check("src", "--format", "json", "--baseline", "safety-baseline.json", cwd=project)
    assert done.returncode == 1
    assert reported(done) == [(14, "missing-cast")]


def test_identical_findings_are_told_apart_by_their_order(project: Path) -> None:
    write_baseline(project)
    source = project / "src" / "lib.rs"
    source.write_text(CODE.replace("    let u = unsafe { f() };\n", "    let u = unsafe { f() };\n    let t = unsafe { f() };\n"), encoding="utf-8")
    done = check("src", "--format", "json", "--baseline", "safety-baseline.json", cwd=project)
    assert done.returncode == 1
    assert reported(done) == [(10, "undocumented-unsafe-block")]  # only the third copy is new


def test_fixed_findings_are_counted_as_gone(project: Path) -> None:
    write_baseline(project)
    source = project / "src" / "lib.rs"
    source.write_text(CODE.replace("    unsafe { *p }", "    // SAFETY: callers pass a valid pointer.\n    unsafe { *p }"), encoding="utf-8")
    done = check("src", "--format", "json", "--baseline", "safety-baseline.json", cwd=project)
    assert done.returncode == 0
    assert "3 known findings not shown; 1 recorded finding no longer occurs" in done.stderr


def test_baseline_paths_are_relative_to_the_baseline_file(project: Path) -> None:
    write_baseline(project)
    elsewhere = project / "src"
    done = check(".", "--format", "json", "--baseline", project / "safety-baseline.json", cwd=elsewhere)
    assert done.returncode == 0 and reported(done) == []


def test_baseline_works_with_text_output(project: Path) -> None:
    write_baseline(project)
    done = check("src", "--baseline", "safety-baseline.json", cwd=project)
    assert done.returncode == 0
    assert done.stdout.startswith("All checks passed")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the baseline"),
        ("[1, 2", "not JSON"),
        ('{"version": 2, "findings": []}', "not a safety-ls baseline"),
        ('{"version": 1, "findings": [{"rule": "missing-cast"}]}', "finding 1 lacks"),
    ],
)
def test_bad_baseline_is_an_error(project: Path, content: str | None, message: str) -> None:
    if content is not None:
        (project / "safety-baseline.json").write_text(content, encoding="utf-8")
    done = check("src", "--baseline", "safety-baseline.json", cwd=project)
    assert done.returncode == 2
    assert message in done.stderr and "safety-baseline.json" in done.stderr


def test_baseline_and_write_baseline_cannot_be_combined(project: Path) -> None:
    done = check("src", "--baseline", "a.json", "--write-baseline", "b.json", cwd=project)
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr


def test_write_baseline_in_text_says_what_it_recorded_instead_of_all_checks_passed(project: Path) -> None:
    done = check("src", "--write-baseline", "safety-baseline.json", cwd=project)
    assert done.returncode == 0
    assert done.stdout == "Recorded 4 findings from 1 of 1 checked file(s) in safety-baseline.json.\n"
    assert "All checks passed" not in done.stdout


def test_a_run_on_some_files_reports_only_on_the_recorded_findings_of_those_files(project: Path) -> None:
    (project / "src" / "other.rs").write_text("fn g(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n", encoding="utf-8")
    write_baseline(project)  # 4 findings in lib.rs, 1 in other.rs
    (project / "src" / "other.rs").write_text("fn g() {}\n", encoding="utf-8")
    # What pre-commit does: only the staged file; lib.rs's four recorded findings are not "gone".
    done = check("src/other.rs", "--baseline", "safety-baseline.json", cwd=project)
    assert done.returncode == 0
    assert "0 known findings in the 1 checked file(s) not shown" in done.stderr
    assert "1 recorded finding in the 1 checked file(s) no longer occurs" in done.stderr
    untouched = check("src/lib.rs", "--baseline", "safety-baseline.json", cwd=project)
    assert "4 known findings in the 1 checked file(s) not shown" in untouched.stderr
    assert "no longer" not in untouched.stderr


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_the_baseline_is_written_with_the_users_umask(project: Path, umask: int) -> None:
    def with_umask() -> None:
        os.umask(umask)

    subprocess.run(
        [sys.executable, "-m", "safety_ls", "check", "--no-cache", "src", "--write-baseline", "b.json"],
        cwd=project, check=True, capture_output=True, preexec_fn=with_umask, timeout=120,
    )
    assert stat.S_IMODE((project / "b.json").stat().st_mode) == 0o666 & ~umask


def test_rewriting_a_baseline_keeps_the_mode_the_user_gave_it(project: Path) -> None:
    write_baseline(project)
    (project / "safety-baseline.json").chmod(0o640)
    write_baseline(project)
    assert stat.S_IMODE((project / "safety-baseline.json").stat().st_mode) == 0o640
