"""Random truncations and mutations of the repository's own Rust files: no exception, fix only
inserts, fix idempotent. A fixed seed, sized for CI (well under 2 minutes); the longer variant
is bench/fuzz_long.py."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fuzz import NOT_IDEMPOTENT, Failure, run

ROOT = Path(__file__).resolve().parent.parent.parent
SEEDS = sorted(
    path
    for folder in ("tests/fixtures", "examples")
    for path in (ROOT / folder).rglob("*.rs")
    if path.stat().st_size < 20_000
)
MUTANTS = 400


@lru_cache(maxsize=1)
def _failures() -> tuple[Failure, ...]:
    count, failures = run(SEEDS, MUTANTS, seed=17)
    assert count == MUTANTS and len(SEEDS) > 20
    return tuple(failures)


def _shown(failures: list[Failure]) -> str:
    return "\n".join(f"{f.seed_file}: {f.problem}\n{f.mutant[-300:]!r}" for f in failures[:5])


def test_mutated_sources_never_crash_and_fix_only_inserts() -> None:
    failures = [f for f in _failures() if f.problem != NOT_IDEMPOTENT]
    assert not failures, f"{len(failures)} of {MUTANTS} mutants failed:\n{_shown(failures)}"


def test_fix_is_idempotent_on_mutated_sources() -> None:
    failures = [f for f in _failures() if f.problem == NOT_IDEMPOTENT]
    assert not failures, f"{len(failures)} of {MUTANTS} mutants needed a second fix:\n{_shown(failures)}"
