"""Every rule family's fixtures report exactly their `//~ rule-id` markers.

A fixture in tests/fixtures/rules/<module>/ is checked against the rules of
server/safety_ls/rules/<module>.py, all of them selected whatever their profile:
a new rule needs its module and a fixture, not a new test, to be tested.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from expectations import actual, describe, expected
from safety_ls.core.settings import Settings
from safety_ls.rules import ALL_RULES

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rules"


def _family(module: str) -> set[str]:
    return {rule.id for rule in ALL_RULES.values() if rule.check.__module__ == f"safety_ls.rules.{module}"}


CASES = [(fixture, _family(fixture.parent.name)) for fixture in sorted(FIXTURES.glob("*/*.rs")) if _family(fixture.parent.name)]


@pytest.mark.parametrize(("fixture", "rules"), CASES, ids=[str(f.relative_to(FIXTURES)) for f, _ in CASES])
def test_fixture_reports_exactly_its_markers(fixture: Path, rules: set[str]) -> None:
    want = expected(fixture, rules)
    got = actual(fixture, rules, Settings(select=frozenset(rules)), strip_markers=True)
    assert got == want, describe(fixture, want - got, got - want)

