"""Valid Rust that tree-sitter-rust cannot parse: no syntax warning, and the rest of the file is analysed.

Each example of docs/grammar-gaps.md, through the real CLI; a truly broken file still gets its warning.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_runner import run_cli
from safety_ls.core.parsing import LANGUAGE, parse
from tree_sitter import Parser

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = re.findall(r"^## (.+?)\n.*?```rust\n(.*?)```", (ROOT / "docs" / "grammar-gaps.md").read_text(encoding="utf-8"), re.S | re.M)


def test_every_gap_in_the_docs_has_an_example() -> None:
    assert [title for title, _ in EXAMPLES] == [
        "Several attributes on one parameter",
        "`safe` items in `unsafe extern` blocks (Rust 2024)",
        "Extern types",
        "`~` in macro input",
    ]


@pytest.mark.parametrize(("title", "code"), EXAMPLES, ids=[title for title, _ in EXAMPLES])
def test_the_grammar_alone_fails_on_the_example(title: str, code: str) -> None:
    """Each gap is real: without the repair, tree-sitter-rust reports an error (when a grammar
    update fixes one, this fails and the repair can go)."""
    assert Parser(LANGUAGE).parse(code.encode()).root_node.has_error


@pytest.mark.parametrize(("title", "code"), EXAMPLES, ids=[title for title, _ in EXAMPLES])
def test_valid_rust_the_grammar_lacks_is_analysed_without_a_syntax_warning(title: str, code: str, tmp_path: Path) -> None:
    (tmp_path / "gap.rs").write_text(code, encoding="utf-8")
    done = run_cli("check", "--no-cache", "--format", "json", "gap.rs", cwd=tmp_path)
    assert "syntax error" not in done.stderr, done.stderr
    rules = [d["rule"] for d in json.loads(done.stdout)["diagnostics"]]
    assert "undocumented-unsafe-block" in rules  # the code after the gap was analysed
    assert not parse(code.encode()).root_node.has_error


def test_lines_and_columns_are_those_of_the_real_text(tmp_path: Path) -> None:
    code = "fn f(\n    #[a] #[b] x: *const u8,\n) -> u8 {\n    unsafe { *x }\n}\n"
    (tmp_path / "gap.rs").write_text(code, encoding="utf-8")
    done = run_cli("check", "--no-cache", "--format", "json", "gap.rs", cwd=tmp_path)
    [diagnostic] = json.loads(done.stdout)["diagnostics"]
    assert (diagnostic["line"], diagnostic["column"]) == (4, 5)


def test_a_real_syntax_error_is_still_reported(tmp_path: Path) -> None:
    (tmp_path / "broken.rs").write_text("fn f(p: *const u8) -> u8 {\n    let x = ;\n    unsafe { *p }\n}\n}\n", encoding="utf-8")
    done = run_cli("check", "--no-cache", "broken.rs", cwd=tmp_path)
    assert "syntax error near line" in done.stderr
