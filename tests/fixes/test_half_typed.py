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
