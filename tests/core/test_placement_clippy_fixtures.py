"""Placement of SAFETY comments matches clippy 1.95, fixture by fixture and variant by variant.

The markers in tests/fixtures/placement were written from clippy's own output
(`verify_with_clippy.py` re-checks them against clippy); here safety-ls must
report exactly the same sites under each clippy.toml variant a fixture declares.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from expectations import actual, describe, expected
from markers import declared_variants, load_variants
from safety_ls.core.settings import PlacementOptions, Settings

FIXTURES = Path(__file__).parent.parent / "fixtures" / "placement"
VARIANTS = load_variants(FIXTURES / "variants.toml")
SAFETY_RULES = {"undocumented-unsafe-block", "undocumented-unsafe-impl", "missing-safety-doc"}
CASES = [
    (fixture, variant)
    for fixture in sorted(FIXTURES.glob("*.rs"))
    for variant in declared_variants(fixture.read_bytes().decode("utf-8"))
]


def placement_options(variant: str) -> PlacementOptions:
    """The variant's clippy.toml options as safety-ls reads them (`accept-x` -> `accept_x`)."""
    return PlacementOptions(**{key.replace("-", "_"): value for key, value in VARIANTS[variant].items()})


@pytest.mark.parametrize(("fixture", "variant"), CASES, ids=[f"{f.name}-{v}" for f, v in CASES])
def test_safety_rules_flag_exactly_what_clippy_flags(fixture: Path, variant: str) -> None:
    settings = Settings(select=frozenset(SAFETY_RULES), placement=placement_options(variant))
    want = expected(fixture, SAFETY_RULES, variant)
    got = actual(fixture, SAFETY_RULES, settings)
    assert got == want, f"variant {variant}:\n" + describe(fixture, want - got, got - want)
