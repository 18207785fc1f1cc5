"""A repository's templates cannot read files outside it, hang `fix`, or break the build."""

from __future__ import annotations

import time
from pathlib import Path

from cli_runner import run_cli

UNDOCUMENTED = "pub fn read(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
SECRET = "the-victim-secret-4242"


def _repository(tmp_path: Path, template: str | None = None) -> Path:
    repo = tmp_path / "repo"
    (repo / "templates").mkdir(parents=True)
    (repo / "safety-ls.toml").write_text('template-dir = "templates"\n')
    (repo / "lib.rs").write_text(UNDOCUMENTED)
    if template is not None:
        (repo / "templates" / "safety_raw_pointer.j2").write_text(template)
    return repo


def test_a_symlinked_template_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text(f"// SAFETY: {SECRET}\n")
    repo = _repository(tmp_path)
    (repo / "templates" / "safety_raw_pointer.j2").symlink_to(tmp_path / "secret.txt")
    done = run_cli("fix", "lib.rs", cwd=repo)
    assert SECRET not in (repo / "lib.rs").read_text()
    assert "a symlink" in done.stderr and "built-in template was used" in done.stderr


def test_a_template_cannot_include_a_file_through_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text(SECRET)
    repo = _repository(tmp_path, "// SAFETY: {% include 'leak.txt' %}\n")
    (repo / "templates" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    run_cli("fix", "lib.rs", cwd=repo)
    assert SECRET not in (repo / "lib.rs").read_text()


def test_template_dir_outside_the_project_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    repo = _repository(tmp_path)
    (repo / "safety-ls.toml").write_text('template-dir = "../elsewhere"\n')
    done = run_cli("fix", "lib.rs", cwd=repo)
    assert done.returncode == 2 and "outside the project folder" in done.stderr


def test_nested_loops_in_a_template_stop_at_the_time_budget(tmp_path: Path) -> None:
    repo = _repository(
        tmp_path, "// SAFETY: {% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}\n"
    )
    started = time.monotonic()
    done = run_cli("fix", "lib.rs", cwd=repo, timeout=60)
    assert time.monotonic() - started < 30
    assert "rendering took over" in done.stderr
    assert "// SAFETY: `*p` needs `p` non-null" in (repo / "lib.rs").read_text(), "the built-in template is used"


def test_a_template_rendering_an_inner_doc_comment_is_refused(tmp_path: Path) -> None:
    repo = _repository(tmp_path, "//! SAFETY: inner doc comments break the build mid-file\n")
    done = run_cli("fix", "lib.rs", cwd=repo)
    assert "//!" not in (repo / "lib.rs").read_text()
    assert "not an outer `//` comment" in done.stderr
