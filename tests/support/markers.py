"""The `//~` expectation markers of the fixtures, and the variants a fixture runs under.

Standard library only: tests/fixtures/placement/verify_with_clippy.py imports it too.

A line ends with zero or more markers; each expects findings that start on that line:

    //~ rule-a, rule-b                  under every variant the fixture runs under
    //~[no_stmt,both_off] rule-a        under the named variants only

A marker repeated on one line expects the finding that many times (clippy reports a
macro body once per expansion).

A variant is one clippy.toml setting, named in tests/fixtures/placement/variants.toml.
A fixture runs under the variants its header line names

    //! Variants: default, no_stmt, both_off (...)

and under `default` alone when it names none.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

DEFAULT_VARIANT = "default"
PLACEMENT_OPTIONS = ("accept-comment-above-attributes", "accept-comment-above-statement")

_NAME = r"[a-z][a-z0-9_]*"
_RULE = r"[a-z][a-z-]*"
_MARKER = rf"//~(?:\[(?P<variants>{_NAME}(?:,{_NAME})*)\])?[ \t]*(?P<rules>{_RULE}(?:[ \t]*,[ \t]*{_RULE})*)"
MARKER = re.compile(_MARKER)
# Only the run of markers that ends a line counts, so prose that quotes `//~` does not.
TRAILING_MARKERS = re.compile(rf"(?:[ \t]*{_MARKER})+[ \t]*$")
DECLARATION = re.compile(rf"^//! Variants: (?P<names>{_NAME}(?:, {_NAME})*)", re.MULTILINE)


def declared_variants(text: str) -> tuple[str, ...]:
    match = DECLARATION.search(text)
    return tuple(match.group("names").split(", ")) if match else (DEFAULT_VARIANT,)


def markers(line: str) -> list[tuple[tuple[str, ...] | None, list[str]]]:
    """(variants, rules) of each marker ending `line`; variants is None for "every variant"."""
    trailing = TRAILING_MARKERS.search(line)
    if trailing is None:
        return []
    found = []
    for match in MARKER.finditer(line, trailing.start()):
        names = match.group("variants")
        rules = [rule.strip() for rule in match.group("rules").split(",")]
        found.append((tuple(names.split(",")) if names else None, rules))
    return found


def without_markers(line: str) -> str:
    trailing = TRAILING_MARKERS.search(line)
    return line[: trailing.start()] if trailing else line


def expected_counts(text: str, variant: str) -> Counter[tuple[int, str]]:
    """How often each (1-based line, rule) is expected under `variant`."""
    declared = declared_variants(text)
    if variant not in declared:
        raise ValueError(f"variant {variant!r} is not among the fixture's {declared}")
    counts: Counter[tuple[int, str]] = Counter()
    for number, line in enumerate(text.splitlines(), start=1):
        for names, rules in markers(line):
            unknown = set(names or ()) - set(declared)
            if unknown:
                raise ValueError(f"line {number}: marker names undeclared variants {sorted(unknown)}")
            if names is None or variant in names:
                counts.update((number, rule) for rule in rules)
    return counts


def format_markers(found: Mapping[str, Sequence[str]], declared: Sequence[str]) -> str:
    """The markers (with a leading space) expecting `found`: variant -> rules reported on one line.

    A rule reported n times under some variant gets n markers; the k-th names the variants
    that report it at least k times, and names none when that is every declared variant.
    """
    counts = {variant: Counter(found.get(variant, ())) for variant in declared}
    rules = dict.fromkeys(rule for variant in declared for rule in found.get(variant, ()))
    out = []
    for rule in rules:
        for k in range(1, max(count[rule] for count in counts.values()) + 1):
            names = [variant for variant in declared if counts[variant][rule] >= k]
            scope = "" if len(names) == len(declared) else f"[{','.join(names)}]"
            out.append(f" //~{scope} {rule}")
    return "".join(out)


def load_variants(path: Path) -> dict[str, dict[str, bool]]:
    """Variant name -> its clippy.toml placement options, every option spelled out."""
    with path.open("rb") as file:
        table = tomllib.load(file)
    for name, options in table.items():
        spelled_out = sorted(options) == sorted(PLACEMENT_OPTIONS)
        if not spelled_out or not all(isinstance(value, bool) for value in options.values()):
            raise ValueError(f"{path}: variant {name!r} must set exactly {PLACEMENT_OPTIONS} to booleans")
    return table


def clippy_toml(options: Mapping[str, bool]) -> str:
    return "".join(f"{key} = {str(value).lower()}\n" for key, value in options.items())
