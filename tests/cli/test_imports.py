"""`safety-ls check` loads the analysis only: no language server, no templates, no audit.

A pre-commit hook runs `check` on a few staged files, many times a day; what it
imports is most of what it costs. The driver runs the real `main` in a fresh
interpreter and prints the modules that were loaded.
"""

from __future__ import annotations

from pathlib import Path

from cli_runner import run_driver

DRIVER = """
import json, sys
from safety_ls.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""

NOT_FOR_CHECK = ("pygls", "lsprotocol", "jinja2", "safety_ls.lsp", "safety_ls.audit", "safety_ls.fixes")


def loaded_modules(*args: str, cwd: Path) -> tuple[int, list[str]]:
    report = run_driver(DRIVER, *args, cwd=cwd)
    return report["exit"], report["modules"]


def _offending(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return [name for name in modules if any(name == package or name.startswith(package + ".") for package in packages)]


def test_check_imports_neither_the_language_server_nor_templates_nor_the_audit(tmp_path: Path) -> None:
    (tmp_path / "a.rs").write_text("fn f(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n", encoding="utf-8")
    exit_code, modules = loaded_modules("check", "--no-cache", "a.rs", cwd=tmp_path)
    assert exit_code == 1  # it did check: the unsafe block has no SAFETY comment
    assert "safety_ls.engine.analyze" in modules
    assert _offending(modules, NOT_FOR_CHECK) == []


def test_check_imports_only_the_report_format_asked_for(tmp_path: Path) -> None:
    (tmp_path / "a.rs").write_text("fn f(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n", encoding="utf-8")
    _, modules = loaded_modules("check", "--no-cache", "--format", "json", "a.rs", cwd=tmp_path)
    formats = {name for name in modules if name.startswith("safety_ls.cli.formats.")}
    assert formats == {"safety_ls.cli.formats.json_format", "safety_ls.cli.formats.sites", "safety_ls.cli.formats.paint"}


def test_audit_imports_what_check_leaves_out(tmp_path: Path) -> None:
    """The driver does see lazily imported modules: the audit's own command loads the audit and jinja2."""
    (tmp_path / "a.rs").write_text("fn f() {}\n", encoding="utf-8")
    exit_code, modules = loaded_modules("audit", ".", cwd=tmp_path)
    assert exit_code == 0
    assert _offending(modules, ("safety_ls.audit", "jinja2")) != []
    assert _offending(modules, ("pygls", "safety_ls.lsp")) == []


ANALYSIS = ("tree_sitter", "tree_sitter_rust", "safety_ls.rules", "safety_ls.facts", "safety_ls.engine.analyze", "safety_ls.core.crate")
# The walk's .gitignore matcher: a walk remembered from the last run does not apply patterns again.
IGNORE_MATCHER = ("pathspec",)


def test_a_check_answered_from_the_cache_loads_neither_the_parser_nor_the_rules(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "p"\nversion = "0.1.0"\n', encoding="utf-8")
    (tmp_path / ".gitignore").write_text("/target\n", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src/lib.rs").write_text("mod a;\npub fn f(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n", encoding="utf-8")
    (tmp_path / "src/a.rs").write_text("fn g(x: u64) -> u32 {\n    x as u32\n}\n", encoding="utf-8")
    (tmp_path / "safety-ls.toml").write_text('extend-select = ["missing-cast"]\n', encoding="utf-8")
    first_exit, first = loaded_modules("check", ".", cwd=tmp_path)
    assert _offending(first, ANALYSIS) != []  # the first run analysed the files
    assert _offending(first, IGNORE_MATCHER) != []  # and walked the tree, applying .gitignore
    second_exit, second = loaded_modules("check", ".", cwd=tmp_path)
    assert second_exit == first_exit == 1
    assert _offending(second, ANALYSIS) == []
    (tmp_path / "src/a.rs").write_text("fn g(x: u64) -> u32 {\n    x as u32 + 1\n}\n", encoding="utf-8")
    _, third = loaded_modules("check", ".", cwd=tmp_path)
    assert "safety_ls.engine.analyze" in third  # a changed file is analysed again
    # By now the walk is remembered (the second run may walk again: the first one's cache directory
    # can share its parent's timestamp tick, which proves nothing), and editing a file keeps it.
    assert _offending(third, IGNORE_MATCHER) == []


BUILDS_DRIVER = """
import json, sys
from safety_ls.core import crate
built = []
build = crate._built_index
crate._built_index = lambda crate_dir: built.append(str(crate_dir)) or build(crate_dir)
from safety_ls.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"exit": code, "built": built}), file=sys.stderr)
"""


def test_checking_one_edited_file_reuses_its_crates_stored_index(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "p"\nversion = "0.1.0"\n', encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src/lib.rs").write_text("mod a;\npub mod b;\n", encoding="utf-8")
    (tmp_path / "src/a.rs").write_text("fn g(x: u64) -> u32 {\n    x as u32\n}\n", encoding="utf-8")
    (tmp_path / "src/b.rs").write_text("pub unsafe fn h() {}\n", encoding="utf-8")

    def run(*args: str) -> tuple[int, list[str]]:
        report = run_driver(BUILDS_DRIVER, *args, cwd=tmp_path)
        return report["exit"], report["built"]

    assert run("check", ".")[1] == [str(tmp_path.resolve())]
    (tmp_path / "src/b.rs").write_text("pub unsafe fn h() {}\npub unsafe fn k() {}\n", encoding="utf-8")
    exit_code, built = run("check", "src/b.rs")
    assert built == [] and exit_code == 1  # the missing docs were still found, from the stored index
    (tmp_path / "src/b.rs").write_text("pub mod c;\npub unsafe fn h() {}\n", encoding="utf-8")
    (tmp_path / "src/b").mkdir()
    (tmp_path / "src/b/c.rs").write_text("pub unsafe fn m() {}\n", encoding="utf-8")
    assert run("check", "src/b/c.rs")[1] == [str(tmp_path.resolve())]  # a new module: built again
