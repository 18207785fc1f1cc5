"""End-to-end tests of the `safety-ls` command line contract (DESIGN.md, "Command line").

Every test runs the real CLI as a subprocess in a temporary directory of its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_runner import run_cli
from safety_ls.rules import ALL_RULES

JSON_KEYS = {"path", "rule", "severity", "message", "line", "column", "end_line", "end_column", "fixable"}

UNSAFE_BLOCK = "fn g() { let t = unsafe { f() }; }\n"
CLEAN = "// SAFETY: f has no preconditions.\nfn g() -> u32 { 1 }\n"


cli = run_cli


def check_json(*args: str | Path, cwd: Path, stdin: str | None = None) -> tuple[int, list[dict], str]:
    done = cli("check", "--format", "json", "--no-cache", *args, cwd=cwd, stdin=stdin)
    assert "Traceback" not in done.stderr, done.stderr
    document = json.loads(done.stdout)
    return done.returncode, document["diagnostics"], done.stderr


def write(root: Path, relative: str, text: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


def sites(diagnostics: list[dict]) -> list[tuple[str, str, int, int]]:
    return [(d["path"], d["rule"], d["line"], d["column"]) for d in diagnostics]


# --- exit codes ---------------------------------------------------------------------------


def test_clean_file_exits_0_and_says_all_checks_passed(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", CLEAN)
    done = cli("check", "a.rs", "--no-cache", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "All checks passed" in done.stdout


def test_findings_exit_1(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", UNSAFE_BLOCK)
    assert cli("check", "a.rs", "--no-cache", cwd=tmp_path).returncode == 1


def test_exit_zero_turns_findings_into_exit_0_but_still_reports_them(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", UNSAFE_BLOCK)
    done = cli("check", "a.rs", "--no-cache", "--exit-zero", cwd=tmp_path)
    assert done.returncode == 0
    assert "undocumented-unsafe-block" in done.stdout


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_rule_in_select_or_ignore_exits_2_naming_it(tmp_path: Path, option: str) -> None:
    write(tmp_path, "a.rs", UNSAFE_BLOCK)
    done = cli("check", "a.rs", option, "undocumented-unsafe-block,no-such-rule", cwd=tmp_path)
    assert done.returncode == 2
    assert "no-such-rule" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_path_exits_2_naming_it(tmp_path: Path) -> None:
    done = cli("check", "nowhere.rs", cwd=tmp_path)
    assert done.returncode == 2
    assert "nowhere.rs" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_config_exits_2(tmp_path: Path) -> None:
    write(tmp_path, "safety-ls.toml", 'profile = "strict"\n')
    write(tmp_path, "a.rs", UNSAFE_BLOCK)
    done = cli("check", "a.rs", cwd=tmp_path)
    assert done.returncode == 2
    assert "safety-ls.toml" in done.stderr


def test_unreadable_file_in_a_walk_exits_2_and_the_others_are_still_reported(tmp_path: Path) -> None:
    write(tmp_path, "src/good.rs", UNSAFE_BLOCK)
    (tmp_path / "src" / "dangling.rs").symlink_to(tmp_path / "gone.rs")
    returncode, diagnostics, stderr = check_json("src", cwd=tmp_path)
    assert returncode == 2
    assert "dangling.rs" in stderr and "cannot read" in stderr
    assert [d["path"] for d in diagnostics] == ["src/good.rs"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission_exits_2(tmp_path: Path) -> None:
    locked = write(tmp_path, "locked.rs", UNSAFE_BLOCK)
    locked.chmod(0)
    try:
        done = cli("check", "locked.rs", "--no-cache", cwd=tmp_path)
    finally:
        locked.chmod(0o644)
    assert done.returncode == 2
    assert "locked.rs" in done.stderr and "Traceback" not in done.stderr


# --- JSON -----------------------------------------------------------------------------------


def test_json_has_exactly_the_contract_keys(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", UNSAFE_BLOCK + "fn c(x: u64) -> u32 { x as u32 }\n")
    done = cli("check", "a.rs", "--format", "json", "--no-cache", cwd=tmp_path)
    document = json.loads(done.stdout)
    assert set(document) == {"version", "diagnostics", "errors"}
    assert document["errors"] == []  # files that could not be checked: none here
    assert document["version"] == 1
    assert len(document["diagnostics"]) == 2
    for item in document["diagnostics"]:
        assert set(item) == JSON_KEYS
        assert isinstance(item["fixable"], bool)
        assert item["severity"] in ("error", "warning", "info", "hint")
        for key in ("line", "column", "end_line", "end_column"):
            assert isinstance(item[key], int) and item[key] >= 1


def test_json_for_a_clean_file_is_an_empty_list(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", CLEAN)
    done = cli("check", "a.rs", "--format", "json", "--no-cache", cwd=tmp_path)
    assert json.loads(done.stdout) == {"version": 1, "diagnostics": [], "errors": []}
    assert done.returncode == 0


def test_json_lines_and_columns_are_1_based(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", "unsafe impl Send for S {}\n")
    _, diagnostics, _ = check_json("a.rs", cwd=tmp_path)
    assert sites(diagnostics) == [("a.rs", "undocumented-unsafe-impl", 1, 1)]
    assert (diagnostics[0]["end_line"], diagnostics[0]["end_column"]) == (1, 7)


def test_json_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", 'fn g() {\n    let s = "→→"; let t = unsafe { f() };\n}\n')
    _, diagnostics, _ = check_json("a.rs", cwd=tmp_path)
    assert sites(diagnostics) == [("a.rs", "undocumented-unsafe-block", 2, 27)]
    assert diagnostics[0]["end_column"] == 33


def test_crlf_file_gives_the_same_positions_as_lf(tmp_path: Path) -> None:
    text = 'fn g() {\n    let s = "→";\n    let t = unsafe { f() };\n    let n = 3u64 as u32;\n}\n'
    write(tmp_path, "lf.rs", text)
    write(tmp_path, "crlf.rs", text.replace("\n", "\r\n"))
    _, lf, _ = check_json("lf.rs", cwd=tmp_path)
    _, crlf, _ = check_json("crlf.rs", cwd=tmp_path)
    assert len(lf) == 2
    strip = lambda items: [{k: v for k, v in d.items() if k != "path"} for d in items]  # noqa: E731
    assert strip(crlf) == strip(lf)


def test_bom_file_gives_the_same_positions_as_without_bom(tmp_path: Path) -> None:
    text = "pub unsafe fn q() {}\nfn g() { let t = unsafe { f() }; }\n"
    write(tmp_path, "plain.rs", text)
    write(tmp_path, "bom.rs", b"\xef\xbb\xbf" + text.encode())
    _, plain, _ = check_json("plain.rs", cwd=tmp_path)
    _, bom, _ = check_json("bom.rs", cwd=tmp_path)
    assert [(d["rule"], d["line"], d["column"]) for d in bom] == [
        ("missing-safety-doc", 1, 1),
        ("undocumented-unsafe-block", 2, 18),
    ]
    strip = lambda items: [{k: v for k, v in d.items() if k != "path"} for d in items]  # noqa: E731
    assert strip(bom) == strip(plain)


# --- where ranges start (as clippy's do) ----------------------------------------------------


def test_unsafe_block_range_is_the_unsafe_keyword(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", "fn g() {\n    let t = 1 + unsafe { f() };\n}\n")
    _, diagnostics, _ = check_json("a.rs", cwd=tmp_path)
    (d,) = diagnostics
    assert (d["line"], d["column"], d["end_line"], d["end_column"]) == (2, 17, 2, 23)


def test_unsafe_impl_range_starts_at_unsafe_after_attributes_and_docs(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", "pub struct S;\n/// doc\n#[allow(dead_code)]\n  unsafe impl Send for S {}\n")
    _, diagnostics, _ = check_json("a.rs", cwd=tmp_path)
    assert sites(diagnostics) == [("a.rs", "undocumented-unsafe-impl", 4, 3)]


def test_missing_safety_doc_range_is_the_item_after_attributes_and_doc_comments(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.rs",
        "/// Does things.\n///\n/// More.\n#[inline]\n#[must_use]\npub unsafe fn h() -> u8 { 0 }\n"
        "pub struct S;\nimpl S {\n    /// Doc line.\n    #[inline]\n    pub unsafe fn m(&self) {}\n}\n",
    )
    _, diagnostics, _ = check_json("a.rs", cwd=tmp_path)
    assert sites(diagnostics) == [("a.rs", "missing-safety-doc", 6, 1), ("a.rs", "missing-safety-doc", 11, 5)]


def test_to_dtype_and_contiguous_ranges_are_the_method_names_on_their_own_lines(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.rs",
        "fn m(t: Tensor) {\n    let y = t\n        .to_dtype(DType::F32)\n        .unwrap()\n"
        "        .contiguous()\n        .matmul(&t);\n}\n",
    )
    _, diagnostics, _ = check_json("a.rs", cwd=tmp_path)
    assert sites(diagnostics) == [("a.rs", "missing-promote", 3, 10), ("a.rs", "missing-contiguous", 5, 10)]


def test_cast_range_starts_at_the_cast_expression(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", "fn c(a: &[u8]) -> u32 {\n    let v = (a.len() + 1) as u32;\n    v\n}\n")
    _, diagnostics, _ = check_json("a.rs", cwd=tmp_path)
    (d,) = diagnostics
    assert (d["rule"], d["line"], d["column"], d["end_line"], d["end_column"]) == ("missing-cast", 2, 13, 2, 33)


# --- text -----------------------------------------------------------------------------------


def test_text_shows_location_rule_message_source_line_and_caret(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", "fn g() {\n    let t = unsafe { f() };\n}\n")
    done = cli("check", "a.rs", "--no-cache", cwd=tmp_path)
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("a.rs:2:13:"))
    assert re.match(r"a\.rs:2:13: undocumented-unsafe-block \S", lines[header])
    source_line = next(line for line in lines[header:] if line.startswith("2 | "))
    caret_line = lines[lines.index(source_line) + 1]
    code = source_line[len("2 | ") :]
    carets = caret_line[len("  | ") :]
    assert code == "    let t = unsafe { f() };"
    assert carets.index("^") == code.index("unsafe")
    assert carets.strip() == "^" * len("unsafe") + " warning"
    assert "Found 1 finding in 1 file." in done.stdout


def test_text_shows_a_long_line_as_a_window_around_each_finding(tmp_path: Path) -> None:
    casts = " + ".join(f"(x{i % 7} as f64)" for i in range(400))  # one line of about 6,000 characters
    write(tmp_path, "a.rs", f"pub fn f(x0: u8, x1: u8, x2: u8, x3: u8, x4: u8, x5: u8, x6: u8) -> f64 {{\n    {casts}\n}}\n")
    done = cli("check", "a.rs", "--no-cache", "--select", "missing-cast", cwd=tmp_path)
    lines = done.stdout.splitlines()
    shown = [line for line in lines if line.startswith("2 | ")]
    assert len(shown) == 400 and all(len(line) <= len("2 | ") + 206 for line in shown)
    header = next(i for i, line in enumerate(lines) if line.startswith("a.rs:2:1406:"))  # the 101st cast
    code, carets = lines[header + 2][len("2 | ") :], lines[header + 3][len("  | ") :]
    assert code.startswith("...") and code.endswith("...")
    assert code[carets.index("^") :].startswith("x2 as f64")
    assert carets.strip() == "^" * len("x2 as f64") + " warning"


def test_text_has_no_ansi_colour_when_not_a_tty(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", UNSAFE_BLOCK)
    done = cli("check", "a.rs", "--no-cache", cwd=tmp_path)
    assert "\x1b[" not in done.stdout


def test_text_has_colour_with_force_color(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", UNSAFE_BLOCK)
    done = cli("check", "a.rs", "--no-cache", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert "\x1b[" in done.stdout
    assert "undocumented-unsafe-block" in done.stdout


def test_text_summary_counts_findings_and_files(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", UNSAFE_BLOCK)
    write(tmp_path, "b.rs", UNSAFE_BLOCK + "fn c(x: u64) -> u32 { x as u32 }\n")
    done = cli("check", ".", "--no-cache", cwd=tmp_path)
    assert "Found 3 findings in 2 files." in done.stdout


# --- SARIF ----------------------------------------------------------------------------------


def sarif(tmp_path: Path, *paths: str) -> dict:
    done = cli("check", *paths, "--format", "sarif", "--no-cache", cwd=tmp_path)
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_sarif_document_shape_and_rules(tmp_path: Path) -> None:
    write(tmp_path, "src/a.rs", UNSAFE_BLOCK)
    document = sarif(tmp_path, "src")
    assert document["version"] == "2.1.0"
    assert "sarif" in document["$schema"] and "2.1.0" in document["$schema"]
    (run,) = document["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert sorted(rule["id"] for rule in rules) == sorted(ALL_RULES)
    for rule in rules:
        assert rule["help"]["text"].strip()
        assert rule["shortDescription"]["text"] == ALL_RULES[rule["id"]].summary
    assert run["columnKind"] == "unicodeCodePoints"
    (result,) = run["results"]
    assert result["ruleId"] == "undocumented-unsafe-block"
    assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/a.rs", "uriBaseId": "SRCROOT"}
    assert location["region"] == {"startLine": 1, "startColumn": 18, "endLine": 1, "endColumn": 24}
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"].startswith("file://")
    assert result["partialFingerprints"]


def test_sarif_rule_ids_do_not_depend_on_which_rules_ran(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", UNSAFE_BLOCK)
    full = sarif(tmp_path, "a.rs")["runs"][0]["tool"]["driver"]["rules"]
    done = cli("check", "a.rs", "--format", "sarif", "--no-cache", "--select", "missing-cast", cwd=tmp_path)
    narrow = json.loads(done.stdout)["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in narrow] == [rule["id"] for rule in full]


def test_sarif_fingerprints_survive_lines_inserted_above(tmp_path: Path) -> None:
    body = "fn g() {\n    let t = unsafe { f() };\n    let u = unsafe { f() };\n}\n"
    write(tmp_path, "a.rs", body)
    before = sarif(tmp_path, "a.rs")["runs"][0]["results"]
    write(tmp_path, "a.rs", "// a header\n\nuse std::fmt;\n\n" + body)
    after = sarif(tmp_path, "a.rs")["runs"][0]["results"]
    line = lambda r: r["locations"][0]["physicalLocation"]["region"]["startLine"]  # noqa: E731
    assert [line(r) for r in before] == [2, 3]
    assert [line(r) for r in after] == [6, 7]
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]
    assert len({json.dumps(r["partialFingerprints"]) for r in after}) == 2  # identical lines differ


# --- GitHub ---------------------------------------------------------------------------------


def test_github_format_writes_workflow_commands(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", UNSAFE_BLOCK)
    done = cli("check", "a.rs", "--format", "github", "--no-cache", cwd=tmp_path)
    (line,) = done.stdout.splitlines()
    assert line.startswith("::warning file=a.rs,line=1,col=18,")
    assert line.split("::", 2)[2].startswith("undocumented-unsafe-block: ")
    assert done.returncode == 1


def test_github_format_escapes_percent_newline_comma_and_colon_in_properties(tmp_path: Path) -> None:
    done = cli(
        "check", "-", "--stdin-filename", "src/a%b,c:d\ne.rs", "--format", "github", "--no-cache",
        cwd=tmp_path, stdin=UNSAFE_BLOCK,
    )
    (line,) = done.stdout.splitlines()
    assert "file=src/a%25b%2Cc%3Ad%0Ae.rs,line=1," in line


# --- rule selection, profiles, explicit config ----------------------------------------------

MIXED = UNSAFE_BLOCK + "fn c(x: u64) -> u32 { x as u32 }\n"


def test_select_keeps_only_the_named_rules(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", MIXED)
    _, diagnostics, _ = check_json("a.rs", "--select", "missing-cast", cwd=tmp_path)
    assert {d["rule"] for d in diagnostics} == {"missing-cast"}


def test_ignore_drops_the_named_rules(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", MIXED)
    _, diagnostics, _ = check_json("a.rs", "--ignore", "missing-cast", cwd=tmp_path)
    assert {d["rule"] for d in diagnostics} == {"undocumented-unsafe-block"}


def test_profiles_enable_their_own_rules(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.rs",
        "/// Reads.\n///\n/// # Safety\n/// Caller keeps x valid.\npub unsafe fn f(x: *const u8) -> u8 { *x }\n"
        "\npub fn g(v: &[u8]) -> u8 { v[0] }\n",
    )
    rules = lambda *extra: {d["rule"] for d in check_json("a.rs", *extra, cwd=tmp_path)[1]}  # noqa: E731
    assert rules() == set()
    assert rules("--profile", "structured") == {"incomplete-safety-doc"}
    assert rules("--profile", "grit") == {"missing-index"}


def test_config_option_uses_that_file_instead_of_searching(tmp_path: Path) -> None:
    write(tmp_path, "safety-ls.toml", 'ignore = ["undocumented-unsafe-block"]\n')
    write(tmp_path, "elsewhere/custom.toml", 'select = ["undocumented-unsafe-block"]\n')
    write(tmp_path, "a.rs", MIXED)
    _, found, _ = check_json("a.rs", cwd=tmp_path)
    assert {d["rule"] for d in found} == {"missing-cast"}
    _, explicit, _ = check_json("a.rs", "--config", "elsewhere/custom.toml", cwd=tmp_path)
    assert {d["rule"] for d in explicit} == {"undocumented-unsafe-block"}


def test_config_option_with_a_missing_file_exits_2(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", MIXED)
    done = cli("check", "a.rs", "--config", "nope.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert "nope.toml" in done.stderr and "Traceback" not in done.stderr


# --- stdin ----------------------------------------------------------------------------------


def test_stdin_is_reported_under_the_stdin_filename(tmp_path: Path) -> None:
    returncode, diagnostics, _ = check_json("-", "--stdin-filename", "src/lib.rs", cwd=tmp_path, stdin=UNSAFE_BLOCK)
    assert returncode == 1
    assert sites(diagnostics) == [("src/lib.rs", "undocumented-unsafe-block", 1, 18)]


def test_stdin_filename_resolves_config_from_its_directory(tmp_path: Path) -> None:
    write(tmp_path, "proj/safety-ls.toml", 'select = ["missing-cast"]\n')
    write(tmp_path, "proj/src/lib.rs", "")
    _, diagnostics, _ = check_json("-", "--stdin-filename", "proj/src/lib.rs", cwd=tmp_path, stdin=MIXED)
    assert {d["rule"] for d in diagnostics} == {"missing-cast"}


def test_stdin_dash_mixed_with_other_paths_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", MIXED)
    done = cli("check", "-", "a.rs", cwd=tmp_path, stdin=MIXED)
    assert done.returncode == 2
    assert "stdin" in done.stderr and "Traceback" not in done.stderr


# --- directory walk -------------------------------------------------------------------------


def checked_paths(tmp_path: Path, *args: str) -> list[str]:
    _, diagnostics, _ = check_json(*args, cwd=tmp_path)
    return sorted({d["path"] for d in diagnostics})


def test_walk_skips_target_and_hidden_directories(tmp_path: Path) -> None:
    for name in ("src/a.rs", "target/debug/build/x.rs", ".hidden/y.rs", "src/.cache/z.rs"):
        write(tmp_path, name, UNSAFE_BLOCK)
    assert checked_paths(tmp_path, ".") == ["src/a.rs"]


def test_walk_honours_gitignore_and_nested_gitignore(tmp_path: Path) -> None:
    for name in ("src/a.rs", "src/gen/b.rs", "src/deep/c.rs", "src/deep/d.rs", "src/tmp_x.rs"):
        write(tmp_path, name, UNSAFE_BLOCK)
    write(tmp_path, ".gitignore", "tmp_*.rs\n")
    write(tmp_path, "src/.gitignore", "gen/\n")
    write(tmp_path, "src/deep/.gitignore", "d.rs\n")
    assert checked_paths(tmp_path, ".") == ["src/a.rs", "src/deep/c.rs"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_walk_honours_a_gitignore_above_the_checked_directory_in_a_git_repo(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for name in ("crates/core/src/a.rs", "crates/core/src/generated/b.rs", "crates/core/src/c.rs"):
        write(tmp_path, name, UNSAFE_BLOCK)
    write(tmp_path, ".gitignore", "/crates/core/src/generated/\nc.rs\n")
    assert checked_paths(tmp_path, "crates/core/src") == ["crates/core/src/a.rs"]
    inner = tmp_path / "crates" / "core"
    assert checked_paths(inner, "src") == ["src/a.rs"]


def test_walk_applies_config_exclude_globs(tmp_path: Path) -> None:
    write(tmp_path, "safety-ls.toml", 'exclude = ["src/bindings/**", "*_generated.rs"]\n')
    for name in ("src/a.rs", "src/bindings/ffi.rs", "src/x_generated.rs"):
        write(tmp_path, name, UNSAFE_BLOCK)
    assert checked_paths(tmp_path, ".") == ["src/a.rs"]


def test_file_named_explicitly_is_checked_even_if_ignored(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "gen/\n")
    write(tmp_path, "safety-ls.toml", 'exclude = ["*_generated.rs"]\n')
    write(tmp_path, "gen/b.rs", UNSAFE_BLOCK)
    write(tmp_path, "x_generated.rs", UNSAFE_BLOCK)
    assert checked_paths(tmp_path, ".") == []
    assert checked_paths(tmp_path, "gen/b.rs", "x_generated.rs") == ["gen/b.rs", "x_generated.rs"]


# --- configuration files --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("safety-ls.toml", 'select = ["missing-cast"]\n'),
        (".safety-ls.toml", 'select = ["missing-cast"]\n'),
        ("Cargo.toml", '[package]\nname = "p"\nversion = "0.1.0"\n\n[package.metadata.safety-ls]\nselect = ["missing-cast"]\n'),
        ("Cargo.toml", '[workspace]\nmembers = []\n\n[workspace.metadata.safety-ls]\nselect = ["missing-cast"]\n'),
    ],
    ids=["safety-ls.toml", ".safety-ls.toml", "package-metadata", "workspace-metadata"],
)
def test_config_is_found_from_the_checked_path(tmp_path: Path, name: str, text: str) -> None:
    write(tmp_path, f"proj/{name}", text)
    write(tmp_path, "proj/src/lib.rs", MIXED)
    write(tmp_path, "other/lib.rs", MIXED)
    _, diagnostics, _ = check_json("proj/src", cwd=tmp_path)
    assert {d["rule"] for d in diagnostics} == {"missing-cast"}
    _, unconfigured, _ = check_json("other", cwd=tmp_path)
    assert {d["rule"] for d in unconfigured} == {"missing-cast", "undocumented-unsafe-block"}


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ('select = ["missing-cast"]\nfrobnicate = 1\n', 2, "frobnicate"),
        ('profile = "default"\n[severity]\nundocumented-unsafe-block = "loud"\n', 3, "undocumented-unsafe-block"),
        ('\n\nprofile = "strict"\n', 3, "profile"),
        ('[placement]\naccept-comment-above-statement = "yes"\n', 2, "accept-comment-above-statement"),
        ('[placement]\naccept-everything = true\n', 2, "accept-everything"),
        ('max-file-size = -1\n', 1, "max-file-size"),
    ],
    ids=["unknown-key", "bad-severity", "bad-profile", "bad-placement-value", "unknown-placement-key", "bad-size"],
)
def test_bad_config_names_the_file_the_line_and_the_key(tmp_path: Path, text: str, line: int, key: str) -> None:
    write(tmp_path, "safety-ls.toml", text)
    write(tmp_path, "a.rs", MIXED)
    done = cli("check", "a.rs", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"safety-ls.toml:{line}:" in done.stderr
    assert key in done.stderr


def test_bad_value_in_cargo_metadata_names_cargo_toml_and_the_line(tmp_path: Path) -> None:
    write(tmp_path, "Cargo.toml", '[package]\nname = "p"\nversion = "0.1.0"\n\n[package.metadata.safety-ls]\nprofile = "loud"\n')
    write(tmp_path, "src/lib.rs", MIXED)
    done = cli("check", "src", cwd=tmp_path)
    assert done.returncode == 2
    assert "Cargo.toml:6:" in done.stderr and "profile" in done.stderr


def test_invalid_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    write(tmp_path, "safety-ls.toml", 'profile = "default"\nselect = ["missing-cast"\nx = \n')
    write(tmp_path, "a.rs", MIXED)
    done = cli("check", "a.rs", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert re.search(r"safety-ls\.toml:\d+: invalid TOML", done.stderr), done.stderr


def test_clippy_toml_accept_comment_above_statement_false_changes_results(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", "fn g() {\n    // SAFETY: f has no preconditions.\n    let t = 1 +\n        unsafe { f() };\n}\n")
    returncode, diagnostics, _ = check_json("a.rs", cwd=tmp_path)
    assert (returncode, diagnostics) == (0, [])
    write(tmp_path, "clippy.toml", "accept-comment-above-statement = false\n")
    returncode, diagnostics, _ = check_json("a.rs", cwd=tmp_path)
    assert returncode == 1
    assert sites(diagnostics) == [("a.rs", "undocumented-unsafe-block", 4, 9)]


def test_per_rule_severity_shows_in_json(tmp_path: Path) -> None:
    write(tmp_path, "safety-ls.toml", '[severity]\nundocumented-unsafe-block = "error"\nmissing-cast = "hint"\n')
    write(tmp_path, "a.rs", MIXED)
    _, diagnostics, _ = check_json("a.rs", cwd=tmp_path)
    assert {d["rule"]: d["severity"] for d in diagnostics} == {
        "undocumented-unsafe-block": "error",
        "missing-cast": "hint",
    }


# --- cache ----------------------------------------------------------------------------------


def cached_json(tmp_path: Path, *args: str) -> tuple[int, str]:
    done = cli("check", ".", "--format", "json", *args, cwd=tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout


class CacheFile:
    """The results file as engine/cache.py writes it: the salt, a JSON header, then one line per
    file: `[key, dependency set, path]` TAB `{warnings, excerpts, diagnostics}`."""

    def __init__(self, root: Path) -> None:
        (self.path,) = (root / ".safety-ls-cache").glob("results-*")
        salt, header, *entries = self.path.read_bytes().split(b"\n")
        self.salt, self.header = salt, json.loads(header)
        self.entries = [(json.loads(prefix), json.loads(body)) for prefix, _, body in (line.partition(b"\t") for line in entries)]

    def paths(self) -> list[str]:
        return [path for (_, _, path), _ in self.entries]

    def keys(self) -> set[str]:
        return {key for (key, _, _), _ in self.entries}

    def write(self) -> None:
        lines = [self.salt, json.dumps(self.header).encode()]
        lines += [json.dumps(prefix).encode() + b"\t" + json.dumps(body).encode() for prefix, body in self.entries]
        self.path.write_bytes(b"\n".join(lines))


def test_second_run_reuses_the_cache_with_identical_results(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", MIXED)
    first = cached_json(tmp_path)
    assert CacheFile(tmp_path).paths() == ["a.rs"]
    second = cached_json(tmp_path)
    assert second == first
    assert first[0] == 1


def test_editing_a_file_changes_its_cached_results(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", MIXED)
    write(tmp_path, "b.rs", UNSAFE_BLOCK)
    _, before = cached_json(tmp_path)
    write(
        tmp_path,
        "a.rs",
        "fn g() {\n    // SAFETY: f has no preconditions.\n    let t = unsafe { f() };\n}\n"
        "fn c(x: u64) -> u32 { x as u32 }\n",
    )
    _, after = cached_json(tmp_path)
    rules = lambda out, path: sorted(d["rule"] for d in json.loads(out)["diagnostics"] if d["path"] == path)  # noqa: E731
    assert rules(before, "a.rs") == ["missing-cast", "undocumented-unsafe-block"]
    assert rules(after, "a.rs") == ["missing-cast"]
    assert rules(after, "b.rs") == rules(before, "b.rs") == ["undocumented-unsafe-block"]


def test_an_edit_that_keeps_size_and_restores_mtime_is_still_seen(tmp_path: Path) -> None:
    """The cache remembers a file's digest with its stat; ctime changes with every write, so a
    tool that puts the modification time back does not hide the edit."""
    path = write(tmp_path, "a.rs", MIXED)
    _, before = cached_json(tmp_path)
    status = path.stat()
    write(tmp_path, "a.rs", MIXED.replace("x as u32", "x as u16"))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert path.stat().st_size == status.st_size and path.stat().st_mtime_ns == status.st_mtime_ns
    _, after = cached_json(tmp_path)
    assert "as u32" in before and "as u16" not in before
    assert "as u16" in after


def test_changing_settings_does_not_reuse_results_of_other_settings(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", MIXED)
    cached_json(tmp_path)
    write(tmp_path, "safety-ls.toml", 'ignore = ["missing-cast"]\n')
    _, out = cached_json(tmp_path)
    assert {d["rule"] for d in json.loads(out)["diagnostics"]} == {"undocumented-unsafe-block"}


def test_no_cache_writes_no_cache(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", MIXED)
    cached_json(tmp_path, "--no-cache")
    assert not (tmp_path / ".safety-ls-cache").exists()


@pytest.mark.parametrize(
    "damage",
    ["text", "list", "entries", "crates", "files", "dependency_sets", "index", "rows"],
)
def test_corrupted_cache_file_is_ignored_not_a_crash(tmp_path: Path, damage: str) -> None:
    write(tmp_path, "a.rs", MIXED)
    write(tmp_path, "src/b.rs", UNSAFE_BLOCK)
    write(tmp_path, "Cargo.toml", '[package]\nname = "p"\nversion = "0.1.0"\n')
    write(tmp_path, "src/lib.rs", "mod b;\n")
    expected = cached_json(tmp_path)
    cache = CacheFile(tmp_path)
    if damage == "text":
        cache.path.write_text("{not json", encoding="utf-8")
    elif damage == "list":
        cache.path.write_bytes(cache.salt + b"\n[1, 2]\n")
    else:  # the salt kept, so that the damaged parts are read
        header = cache.header
        if damage == "entries":
            (first, _), *others = cache.entries
            cache.entries = [(first, "not an object")] + [([key, 3, {"p": path}], body) for (key, _, path), body in others]
        elif damage == "crates":
            header["crates"] = {key: {"stamp": value.get("stamp"), "states": [1]} for key, value in header["crates"].items()}
        elif damage == "files":
            header["files"] = {path: [1, "x"] if n % 2 else {"a": 1} for n, path in enumerate(header["files"])}
        elif damage == "dependency_sets":
            header["dependency_sets"] = {"x": [1]}
            cache.entries = [([key, "x", path], body) for (key, _, path), body in cache.entries]
        elif damage == "index":  # read when a file of the crate is analysed again
            header["crates"] = {key: {**value, "index": {"roots": 3}} for key, value in header["crates"].items()}
            write(tmp_path, "src/b.rs", UNSAFE_BLOCK + "// appended: the findings stay the same\n")
        else:
            cache.entries = [(prefix, {**body, "diagnostics": [[1, 2]]}) for prefix, body in cache.entries]
        cache.write()
    assert cached_json(tmp_path) == expected
    assert cached_json(tmp_path) == expected  # and the rewritten cache is sound


# --- rules ----------------------------------------------------------------------------------


def test_rules_lists_every_rule_id(tmp_path: Path) -> None:
    done = cli("rules", cwd=tmp_path)
    assert done.returncode == 0
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    assert listed == set(ALL_RULES)


def test_rules_explains_one_rule(tmp_path: Path) -> None:
    done = cli("rules", "missing-cast", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.startswith("## `missing-cast`")
    assert "CAST:" in done.stdout
    assert ALL_RULES["missing-cast"].explanation.split("\n")[0] in done.stdout


def test_rules_with_an_unknown_id_exits_2(tmp_path: Path) -> None:
    done = cli("rules", "missing-casts", cwd=tmp_path)
    assert done.returncode == 2
    assert "missing-casts" in done.stderr and "Traceback" not in done.stderr


# --- parallel analysis ----------------------------------------------------------------------


def test_parallel_jobs_give_the_same_json_as_one_job(tmp_path: Path) -> None:
    for index in range(40):
        write(
            tmp_path,
            f"src/m{index:02}.rs",
            f"fn g{index}(x: u64) -> u32 {{\n    let t = unsafe {{ f() }};\n    (x + {index}) as u32\n}}\n"
            + ("// SAFETY: ok\nunsafe impl Send for S {}\n" if index % 3 else "pub unsafe fn h() {}\n"),
        )
    one = cli("check", "src", "--format", "json", "--no-cache", "--jobs", "1", cwd=tmp_path)
    two = cli("check", "src", "--format", "json", "--no-cache", "--jobs", "2", cwd=tmp_path)
    assert one.returncode == two.returncode == 1
    assert two.stdout == one.stdout
    assert len(json.loads(one.stdout)["diagnostics"]) >= 80


def test_json_keeps_one_diagnostic_per_line_whatever_the_messages_say() -> None:
    from safety_ls.cli.formats import json_format
    from safety_ls.core.findings import Diagnostic, FileResult, Severity

    tricky = ['ends with }, {"path": "x"', 'quote " and brace }', "}, {", '}, {"path": ', "plain"]
    diagnostics = [Diagnostic("a.rs", "missing-cast", Severity.WARNING, message, n + 1, 1, n + 1, 2, False) for n, message in enumerate(tricky)]
    out = json_format.render([FileResult("a.rs", diagnostics)])
    assert [item["message"] for item in json.loads(out)["diagnostics"]] == tricky
    lines = out.splitlines()
    assert [json.loads(line.strip().rstrip(","))["message"] for line in lines[3 : 3 + len(tricky)]] == tricky


def test_checking_one_file_keeps_the_cached_results_of_the_others(tmp_path: Path) -> None:
    """A pre-commit run checks the staged files only; the next full check still finds the rest cached."""
    write(tmp_path, "a.rs", MIXED)
    write(tmp_path, "b.rs", UNSAFE_BLOCK)
    cached_json(tmp_path)
    write(tmp_path, "a.rs", MIXED + "// edited\n")
    cli("check", "a.rs", "--format", "json", cwd=tmp_path)
    assert sorted(CacheFile(tmp_path).paths()) == ["a.rs", "b.rs"]
    (tmp_path / "b.rs").unlink()
    cached_json(tmp_path)
    assert CacheFile(tmp_path).paths() == ["a.rs"]


def test_editing_a_function_body_leaves_the_other_files_of_its_crate_cached(tmp_path: Path) -> None:
    """The crate's index is reused while each file's module structure (mod, pub use, inner lint
    attributes) is unchanged; a new `pub mod` is seen."""
    write(tmp_path, "Cargo.toml", '[package]\nname = "p"\nversion = "0.1.0"\n')
    write(tmp_path, "src/lib.rs", "mod a;\nmod b;\n")
    write(tmp_path, "src/a.rs", "pub fn g(x: u64) -> u32 {\n    x as u32\n}\n")
    write(tmp_path, "src/b.rs", "pub unsafe fn h() {}\n")
    cached_json(tmp_path)
    before = CacheFile(tmp_path).keys()
    write(tmp_path, "src/a.rs", "pub fn g(x: u64) -> u32 {\n    (x + 1) as u32\n}\n")
    _, out = cached_json(tmp_path)
    after = CacheFile(tmp_path).keys()
    assert len(after - before) == 1  # a.rs only: lib.rs and b.rs kept their keys
    assert "missing-safety-doc" not in out  # b is in a private module: not reachable
    write(tmp_path, "src/lib.rs", "mod a;\npub mod b;\n")
    _, out = cached_json(tmp_path)
    assert [d["path"] for d in json.loads(out)["diagnostics"] if d["rule"] == "missing-safety-doc"] == ["src/b.rs"]


def test_a_cache_file_of_an_older_format_is_removed_once_results_are_saved(tmp_path: Path) -> None:
    write(tmp_path, "a.rs", MIXED)
    write(tmp_path, ".safety-ls-cache/results-v1.json", "{}")
    cached_json(tmp_path)
    assert [path.name for path in (tmp_path / ".safety-ls-cache").glob("results-*")] == [CacheFile(tmp_path).path.name]


def test_a_cache_that_cannot_be_written_still_gives_the_results_and_says_why(tmp_path: Path) -> None:
    """A read-only checkout behaves the same; root ignores file modes, so a file stands in the way here."""
    write(tmp_path, "a.rs", MIXED)
    write(tmp_path, ".safety-ls-cache", "not a directory")
    expected = cli("check", "a.rs", "--format", "json", "--no-cache", cwd=tmp_path).stdout
    done = cli("check", "a.rs", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == expected
    assert "results not cached" in done.stderr and "Traceback" not in done.stderr
