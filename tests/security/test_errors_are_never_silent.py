"""A file or folder that cannot be checked is an error in every output, while the rest is checked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_runner import run_cli

SOURCE = "pub fn read(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"


def _crate_with_broken_links(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text('[package]\nname = "c"\nversion = "0.1.0"\n')
    (root / "src" / "lib.rs").write_text(SOURCE)
    (root / "src" / "dangling.rs").symlink_to("nowhere.rs")
    (root / "src" / "loop.rs").symlink_to("loop.rs")
    return root


def test_broken_symlinks_are_per_file_errors_in_json_and_the_rest_is_checked(tmp_path: Path) -> None:
    root = _crate_with_broken_links(tmp_path / "crate")
    done = run_cli("check", "--no-cache", "--format", "json", "src", cwd=root)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    document = json.loads(done.stdout)
    assert [d["path"] for d in document["diagnostics"]] == ["src/lib.rs"]
    assert {error["path"] for error in document["errors"]} == {"src/dangling.rs", "src/loop.rs"}


def test_sarif_carries_the_failures_as_tool_execution_notifications(tmp_path: Path) -> None:
    root = _crate_with_broken_links(tmp_path / "crate")
    done = run_cli("check", "--no-cache", "--format", "sarif", "src", cwd=root)
    (invocation,) = json.loads(done.stdout)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    texts = sorted(n["message"]["text"] for n in invocation["toolExecutionNotifications"])
    assert texts[0].startswith("src/dangling.rs: cannot read") and texts[1].startswith("src/loop.rs: cannot read")


def test_text_summary_never_says_all_checks_passed_when_every_file_failed(tmp_path: Path) -> None:
    root = _crate_with_broken_links(tmp_path / "crate")
    (root / "src" / "lib.rs").unlink()
    done = run_cli("check", "--no-cache", "src", cwd=root)
    assert done.returncode == 2
    assert "All checks passed" not in done.stdout
    assert "2 files could not be checked" in done.stdout


def test_a_symlink_loop_named_on_the_command_line_does_not_stop_the_run(tmp_path: Path) -> None:
    root = _crate_with_broken_links(tmp_path / "crate")
    done = run_cli("check", "--no-cache", "--format", "json", "src/loop.rs", "src/lib.rs", cwd=root)
    assert done.returncode == 2
    document = json.loads(done.stdout)
    assert [d["path"] for d in document["diagnostics"]] == ["src/lib.rs"]
    assert [error["path"] for error in document["errors"]] == ["src/loop.rs"]


def test_audit_reports_broken_symlinks_instead_of_crashing(tmp_path: Path) -> None:
    root = _crate_with_broken_links(tmp_path / "crate")
    done = run_cli("audit", ".", "--format", "json", cwd=root)
    assert "Traceback" not in done.stderr and done.returncode == 2
    assert len(json.loads(done.stdout)["errors"]) == 2


def test_a_repository_gitignore_with_an_invalid_pattern_does_not_stop_the_check(tmp_path: Path) -> None:
    root = _crate_with_broken_links(tmp_path / "crate")
    (root / ".gitignore").write_text("!\n\\\\\n")
    done = run_cli("check", "--no-cache", "src/lib.rs", ".", cwd=root)
    assert "Traceback" not in done.stderr and "undocumented-unsafe-block" in done.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists directories whatever their mode")
def test_an_unreadable_directory_is_reported_not_skipped(tmp_path: Path) -> None:
    root = _crate_with_broken_links(tmp_path / "crate")
    locked = root / "src" / "locked"
    locked.mkdir()
    (locked / "a.rs").write_text(SOURCE)
    locked.chmod(0)
    try:
        done = run_cli("check", "--no-cache", "--format", "json", "src", cwd=root)
    finally:
        locked.chmod(0o755)
    assert done.returncode == 2
    assert any(error["path"] == "src/locked" for error in json.loads(done.stdout)["errors"])


def _folder_too_deep_to_list(parent: Path) -> str:
    """A folder whose path is longer than the system accepts (PATH_MAX): listing it fails with
    ENAMETOOLONG even for root, which ignores file modes. Returns its first component's name."""
    name = "d" * 200
    descriptor = os.open(parent, os.O_RDONLY)
    try:
        for _ in range(25):  # 25 x 201 bytes: past Linux's 4,096
            os.mkdir(name, dir_fd=descriptor)
            inner = os.open(name, os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = inner
    finally:
        os.close(descriptor)
    return name


def test_a_folder_that_cannot_be_listed_is_reported_by_check_and_audit_even_for_root(tmp_path: Path) -> None:
    root = tmp_path / "crate"
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text('[package]\nname = "c"\nversion = "0.1.0"\n')
    (root / "src" / "lib.rs").write_text(SOURCE)
    top = _folder_too_deep_to_list(root / "src")
    checked = run_cli("check", "--no-cache", "--format", "json", "src", cwd=root)
    assert checked.returncode == 2 and "Traceback" not in checked.stderr
    document = json.loads(checked.stdout)
    assert [d["path"] for d in document["diagnostics"]] == ["src/lib.rs"]
    assert any(error["path"].startswith(f"src/{top}/") for error in document["errors"])
    audited = run_cli("audit", ".", "--format", "json", cwd=root)
    assert audited.returncode == 2 and "Traceback" not in audited.stderr
    report = json.loads(audited.stdout)
    assert report["summary"]["files"] == 1
    assert any(error["path"].startswith(f"src/{top}/") for error in report["errors"])
    assert "could not be audited" in audited.stderr
