"""Every config value is validated with a message naming the file and line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_cli

SOURCE = "pub fn read(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"


def _crate(root: Path, manifest_tail: str = "", config: str | None = None) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "lib.rs").write_text(SOURCE)
    (root / "Cargo.toml").write_text('[package]\nname = "c"\nversion = "0.1.0"\n' + manifest_tail)
    if config is not None:
        (root / "safety-ls.toml").write_text(config)
    return root


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ('exclude = ["!"]\n', "is not a valid .gitignore-style pattern"),
        ('exclude = ["a\\u0000b"]\n', "NUL character"),
        ("select = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ('template-dir = "no-such-folder"\n', "is not a directory"),
        ('[gpu]\ncommand = ["x"]\n[gpu.env]\n"A=B" = "1"\n', "is not an environment variable name"),
        ('[gpu]\ncommand = ["x"]\n[gpu.env]\nA = "1\\u0000"\n', "contains a NUL character"),
        ('[gpu]\ncommand = ["x"]\ntimeout = nan\n', "positive, finite number of seconds"),
        ('[gpu]\ncommand = ["x"]\ntimeout = -inf\n', "positive, finite number of seconds"),
    ],
)
def test_a_bad_config_value_is_an_error_with_the_file(tmp_path: Path, config: str, said: str) -> None:
    root = _crate(tmp_path / "crate", config=config)
    done = run_cli("check", "--no-cache", "src", cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "safety-ls.toml" in done.stderr and said in done.stderr
    assert "Traceback" not in done.stderr


def test_a_broken_safety_ls_table_in_cargo_toml_is_an_error_not_a_fallback_to_the_parent(tmp_path: Path) -> None:
    (tmp_path / "safety-ls.toml").write_text('select = ["missing-cast"]\n')  # the parent's config must not be used
    root = _crate(tmp_path / "crate", manifest_tail="\n[package.metadata.safety-ls]\nselect = [\n")
    done = run_cli("check", "--no-cache", "src", cwd=root)
    assert done.returncode == 2
    assert "Cargo.toml" in done.stderr and "invalid TOML" in done.stderr


def test_a_safety_ls_metadata_value_that_is_not_a_table_is_an_error(tmp_path: Path) -> None:
    root = _crate(tmp_path / "crate", manifest_tail='\n[package.metadata]\nsafety-ls = "yes"\n')
    done = run_cli("check", "--no-cache", "src", cwd=root)
    assert done.returncode == 2 and "Cargo.toml:6" in done.stderr and "expected a table" in done.stderr


def test_an_unrelated_broken_cargo_toml_does_not_stop_the_check(tmp_path: Path) -> None:
    root = _crate(tmp_path / "crate", manifest_tail="\n[dependencies\n")
    done = run_cli("check", "--no-cache", "src", cwd=root)
    assert done.returncode == 1 and "undocumented-unsafe-block" in done.stdout
