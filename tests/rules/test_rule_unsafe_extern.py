"""unsafe-extern-block: Rust 2024 `unsafe extern` blocks without a SAFETY comment (opt-in)."""

from __future__ import annotations

from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze

RULES = {"unsafe-extern-block"}


def test_unsafe_extern_block_is_off_until_selected() -> None:
    source = SourceText.from_text('unsafe extern "C" {\n    fn abs(x: i32) -> i32;\n}\n')
    assert analyze(source, "x.rs", Settings()).diagnostics == []
    (diagnostic,) = analyze(source, "x.rs", Settings(extend_select=frozenset(RULES))).diagnostics
    assert (diagnostic.rule, diagnostic.line, diagnostic.column, diagnostic.end_column) == (
        "unsafe-extern-block",
        1,
        1,
        7,
    )

