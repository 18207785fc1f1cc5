"""Half-typed code (an editor's buffer mid-keystroke): a site without a name is not reported, and
`fix` run twice changes nothing the second time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_cli

HALF_TYPED = {
    "open-parameters": "pub struct S;\nimpl S {\n    pub unsafe fn get(&self, i: usize\n}\n",
    "no-name": "pub unsafe fn (p: *const u8) -> u8 {\n    unsafe { *p }\n}\n",
    "modifiers-only": "/// Reads.\npub unsafe fn\n",
    "stray-word-above-an-impl": "pub struct S;\nfoo\nunsafe impl Sync for S {}\n",
    "stray-word-above-a-fn": "pub struct S;\nfoo\npub unsafe fn f(p: *const u8) -> u8 {\n    *p\n}\n",
    "fn-after-code-on-its-line": "u() pub unsafe fn f(p: *const u8) {}\n",
    # Docs inserted here make tree-sitter read the broken line above as a cast (a new site).
    "parse-changed-by-comments": "c]\npub unsafe fn d(1d as usize;\n",
}

# Comments below a stray word: tree-sitter's recovery puts them inside the word's statement,
# before the `;` it supplies, yet they stand above the item and document it.
DOCUMENTED_BELOW_A_STRAY_WORD = {
    "safety-comment": "pub struct S;\nfoo\n// SAFETY: `S` holds no data.\nunsafe impl Sync for S {}\n",
    "safety-docs": "pub struct S;\nfoo\n/// # Safety\n///\n/// `p` is valid.\npub unsafe fn f(p: *const u8) -> u8 {\n    *p\n}\n",
}


@pytest.mark.parametrize("text", HALF_TYPED.values(), ids=HALF_TYPED.keys())
def test_an_unsafe_fn_without_a_name_is_not_reported_with_an_empty_one(tmp_path: Path, text: str) -> None:
    (tmp_path / "lib.rs").write_text(text)
    done = run_cli("check", "--no-cache", "--format", "json", "lib.rs", cwd=tmp_path)
    messages = [d["message"] for d in json.loads(done.stdout)["diagnostics"]]
    assert not any("``" in message for message in messages), messages


@pytest.mark.parametrize("text", HALF_TYPED.values(), ids=HALF_TYPED.keys())
def test_fix_on_half_typed_code_is_idempotent(tmp_path: Path, text: str) -> None:
    (tmp_path / "lib.rs").write_text(text)
    run_cli("fix", "lib.rs", cwd=tmp_path)
    once = (tmp_path / "lib.rs").read_bytes()
    run_cli("fix", "lib.rs", cwd=tmp_path)
    assert (tmp_path / "lib.rs").read_bytes() == once
    assert once.count(b"# Safety") <= 1


@pytest.mark.parametrize("text", DOCUMENTED_BELOW_A_STRAY_WORD.values(), ids=DOCUMENTED_BELOW_A_STRAY_WORD.keys())
def test_comments_below_a_stray_word_document_the_item_under_them(tmp_path: Path, text: str) -> None:
    (tmp_path / "lib.rs").write_text(text)
    done = run_cli("check", "--no-cache", "--format", "json", "lib.rs", cwd=tmp_path)
    assert json.loads(done.stdout)["diagnostics"] == []


def test_no_docs_fix_for_an_item_that_starts_after_code_on_its_line(tmp_path: Path) -> None:
    # Doc lines inserted above that line would document the code before the item.
    (tmp_path / "lib.rs").write_text("fn g() {} pub unsafe fn f(p: *const u8) -> u8 {\n    *p\n}\n")
    done = run_cli("check", "--no-cache", "--format", "json", "lib.rs", cwd=tmp_path)
    assert [(d["rule"], d["fixable"]) for d in json.loads(done.stdout)["diagnostics"]] == [("missing-safety-doc", False)]


def test_fix_leaves_half_typed_code_alone_where_its_comments_would_change_the_parse(tmp_path: Path) -> None:
    text = HALF_TYPED["parse-changed-by-comments"]
    (tmp_path / "lib.rs").write_text(text)
    done = run_cli("fix", "lib.rs", cwd=tmp_path)
    assert (tmp_path / "lib.rs").read_text() == text
    assert "would change how the code around the file's syntax errors parses" in done.stderr
