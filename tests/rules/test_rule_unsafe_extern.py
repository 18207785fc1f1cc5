"""unsafe-extern-block: Rust 2024 `unsafe extern` blocks without a SAFETY comment (opt-in)."""

from __future__ import annotations

from pathlib import Path

import pytest
from expectations import actual, describe, expected
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rules" / "unsafe_extern"
RULES = {"unsafe-extern-block"}


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.rs")), ids=lambda p: p.name)
def test_unsafe_extern_block_matches_fixture_markers(fixture: Path) -> None:
    want = expected(fixture, RULES)
    got = actual(fixture, RULES, strip_markers=True)
    assert got == want, describe(fixture, want - got, got - want)


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

