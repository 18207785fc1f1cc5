"""Ids for findings and unsafe sites that outlive line numbers.

Baselines (`check --baseline`), audit comparisons (`audit --compare`) and
SARIF's `partialFingerprints` all name a site by what it is, not where it is:
its rule or kind, its file, and the whitespace-normalized text of its line
and of the nearest non-blank line above and below it. Sites with the same
text and context in one file are told apart by their order (an occurrence
index). Lines inserted anywhere except right next to a site keep its id.

Each site also gets a `line` id (kind, file and its own line's text only), a
looser key that still matches after an edit next to the site, such as the
`// SAFETY:` comment written above a block that was undocumented.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Sequence

# How far (in lines) a neighbour is looked for; blank lines in between are skipped.
NEIGHBOUR_REACH = 2

LineText = Callable[[int], "str | None"]  # a 0-based line's text, None where unknown


@dataclass(frozen=True)
class Fingerprint:
    exact: str  # kind, path, the line with its neighbours, occurrence index
    line: str  # kind, path, the line alone


def normalized(text: str) -> str:
    return " ".join(text.split())


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8", "replace")).hexdigest()[:32]


def _neighbour(line_text: LineText, line: int, step: int) -> str:
    for distance in range(1, NEIGHBOUR_REACH + 1):
        text = line_text(line + step * distance) if line + step * distance >= 0 else None
        if text is None:
            return ""
        if text.strip():
            return normalized(text)
    return ""


def fingerprint_sites(path: str, sites: Sequence[tuple[str, int]], line_text: LineText) -> list[Fingerprint]:
    """Fingerprints for (kind or rule, 0-based line) sites of one file, in the order given."""
    occurrences: dict[tuple[str, str], int] = {}
    found = []
    for kind, line in sites:
        own = normalized(line_text(line) or "")
        context = "\n".join((_neighbour(line_text, line, -1), own, _neighbour(line_text, line, 1)))
        occurrence = occurrences.get((kind, context), 0)
        occurrences[(kind, context)] = occurrence + 1
        found.append(Fingerprint(_digest(kind, path, context, occurrence), _digest(kind, path, own)))
    return found


def match(current: Sequence[Fingerprint], previous: Sequence[Fingerprint]) -> dict[int, int]:
    """Which previous site (index) each current site (index) is; unmatched ones are absent.

    Exact ids are matched first; the rest by line id, in order, each previous site used once.
    """
    pairs: dict[int, int] = {}
    by_exact: dict[str, list[int]] = {}
    for index, fingerprint in enumerate(previous):
        by_exact.setdefault(fingerprint.exact, []).append(index)
    for index, fingerprint in enumerate(current):
        candidates = by_exact.get(fingerprint.exact)
        if candidates:
            pairs[index] = candidates.pop(0)
    used = set(pairs.values())
    by_line: dict[str, list[int]] = {}
    for index, fingerprint in enumerate(previous):
        if index not in used:
            by_line.setdefault(fingerprint.line, []).append(index)
    for index, fingerprint in enumerate(current):
        if index in pairs:
            continue
        candidates = by_line.get(fingerprint.line)
        if candidates:
            pairs[index] = candidates.pop(0)
    return pairs
