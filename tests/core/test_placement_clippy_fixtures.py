"""Placement of SAFETY comments matches clippy 1.95, fixture by fixture.

The markers in tests/fixtures/placement were written from clippy's own output
(`verify_with_clippy.py` re-checks them against clippy); here safety-ls must
report exactly the same sites.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from expectations import actual, describe, expected

FIXTURES = Path(__file__).parent.parent / "fixtures" / "placement"
SAFETY_RULES = {"undocumented-unsafe-block", "undocumented-unsafe-impl", "missing-safety-doc"}


@pytest.mark.parametrize(
    "fixture", sorted(FIXTURES.rglob("*.rs")), ids=lambda p: str(p.relative_to(FIXTURES))
)
def test_safety_rules_flag_exactly_what_clippy_flags(fixture: Path) -> None:
    want = expected(fixture, SAFETY_RULES)
    got = actual(fixture, SAFETY_RULES)
    assert got == want, describe(fixture, want - got, got - want)
