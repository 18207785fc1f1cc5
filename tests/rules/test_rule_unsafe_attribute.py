"""unsafe-attribute: `#[unsafe(no_mangle)]`-style attributes without a SAFETY comment (opt-in)."""

from __future__ import annotations

from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze

RULES = {"unsafe-attribute"}


def test_unsafe_attribute_is_off_until_selected_and_names_the_attribute() -> None:
    source = SourceText.from_text('#[unsafe(export_name = "f")]\npub extern "C" fn f() {}\n')
    assert analyze(source, "x.rs", Settings()).diagnostics == []
    (diagnostic,) = analyze(source, "x.rs", Settings(extend_select=frozenset(RULES))).diagnostics
    assert diagnostic.message == "`#[unsafe(export_name)]` missing a `// SAFETY:` comment"
    assert (diagnostic.line, diagnostic.column) == (1, 1)
