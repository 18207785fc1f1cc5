"""Mutants of Rust sources for the fuzz test (tests/engine/test_fuzz.py) and its longer bench variant.

A mutant is a seed file truncated at a random byte, with a span deleted or duplicated, or with a
Rust fragment inserted at a random place (half-typed code: `unsafe fn f(`, a lone `{`, a cast with
no type, a SAFETY comment, a lone `\\r`). Each mutant is analysed and fixed twice in-process:
no exception, the second fix changes nothing, and the first only inserted text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path

from safety_ls.config.templates import Templates
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceError, SourceText
from safety_ls.engine.analyze import analyze
from safety_ls.fixes.apply import fix_source

FRAGMENTS = (
    b"unsafe fn f(", b"pub unsafe fn g(&self, i: usize", b"unsafe {", b"}", b"{", b" as ", b" as u8",
    b"// SAFETY: ", b"/// # Safety\n", b"#[", b"impl S {", b"unsafe impl Send for", b"\r", b"\r\n", b"\xc3\xa9",
    b".to_dtype(DType::F32)", b".contiguous()", b"x[i]", b"macro_rules! m { () => { unsafe {", b"\n",
)
# Every rule, in the two profiles that add the most sites; the allocation rewrite is left out
# because it replaces text (tests/fixes/test_fix_corpus.py covers it).
SETTINGS = (
    replace(Settings(), select=frozenset({"ALL"}), ignore=frozenset({"unsafe-device-alloc"})),
    replace(Settings(profile="grit"), ignore=frozenset({"unsafe-device-alloc"})),
)


NOT_IDEMPOTENT = "fix is not idempotent: a second fix changed the text again"


@dataclass
class Failure:
    seed_file: str
    mutant: bytes
    problem: str


def mutate(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return rng.choice(FRAGMENTS)
    at = rng.randrange(len(data) + 1)
    kind = rng.randrange(4)
    if kind == 0:
        return data[:at]
    if kind == 1:
        end = min(len(data), at + rng.randrange(1, 200))
        return data[:at] + data[end:]
    if kind == 2:
        end = min(len(data), at + rng.randrange(1, 200))
        return data[:end] + data[at:end] + data[end:]
    return data[:at] + rng.choice(FRAGMENTS) + data[at:]


def only_inserted(original: bytes, fixed: bytes) -> bool:
    """Whether `original` is a subsequence of `fixed`: the fix added text and removed none."""
    position = 0
    for byte in original:
        position = fixed.find(bytes([byte]), position)
        if position < 0:
            return False
        position += 1
    return True


def check_mutant(data: bytes, name: str, settings: Settings) -> str | None:
    """What is wrong with safety-ls on this text, or None."""
    try:
        analyze(SourceText(data), name, settings)
        first = fix_source(data, name, settings, Templates())
        second = fix_source(first.fixed, name, settings, Templates())
    except SourceError:
        return None  # not UTF-8: refused with a message, as designed
    except Exception as error:  # noqa: BLE001 - any crash is the finding
        return f"{type(error).__name__}: {error}"
    if not only_inserted(data, first.fixed):
        return "fix removed or changed text"
    if second.fixed != first.fixed:
        return NOT_IDEMPOTENT
    return None


def run(seeds: list[Path], count: int, seed: int) -> tuple[int, list[Failure]]:
    rng = random.Random(seed)
    texts = [(path, path.read_bytes()) for path in seeds]
    failures = []
    for number in range(count):
        path, data = texts[number % len(texts)]
        mutant = data
        for _ in range(rng.randrange(1, 4)):
            mutant = mutate(mutant, rng)
        settings = SETTINGS[number % len(SETTINGS)]
        problem = check_mutant(mutant, path.name, settings)
        if problem is not None:
            failures.append(Failure(str(path), mutant, problem))
    return count, failures
