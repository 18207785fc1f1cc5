"""undocumented-unsafe-impl with `send-sync-pair`: one SAFETY comment for an `unsafe impl Send`/`Sync` pair."""

from __future__ import annotations

import pytest
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText
from safety_ls.engine.analyze import analyze

RULES = frozenset({"undocumented-unsafe-impl"})
PAIR = (
    "struct Handle(*mut u8);\n"
    "// SAFETY: the handle is owned by one thread at a time; cuBLAS allows that\n"
    "unsafe impl Send for Handle {}\n"
    "unsafe impl Sync for Handle {}\n"
)


def flagged(source: str, pair: bool) -> list[int]:
    settings = Settings(select=RULES, send_sync_pair=pair)
    return [d.line for d in analyze(SourceText.from_text(source), "x.rs", settings).diagnostics]


def test_clippy_default_flags_the_second_impl_of_a_pair() -> None:
    assert flagged(PAIR, pair=False) == [4]


def test_send_sync_pair_lets_one_comment_cover_both_impls() -> None:
    assert flagged(PAIR, pair=True) == []


@pytest.mark.parametrize(
    "second",
    [
        "unsafe impl Sync for Other {}\n",  # another type
        "\nfn between() {}\nunsafe impl Sync for Handle {}\n",  # not directly after
        "unsafe impl Clone for Handle {}\n",  # not Send/Sync
    ],
)
def test_send_sync_pair_needs_the_same_type_directly_after(second: str) -> None:
    source = PAIR.rsplit("unsafe impl Sync", 1)[0] + second
    assert flagged(source, pair=True) == [source.count("\n")]


def test_send_sync_pair_needs_the_first_impl_documented() -> None:
    source = "struct Handle(*mut u8);\nunsafe impl Send for Handle {}\nunsafe impl Sync for Handle {}\n"
    assert flagged(source, pair=True) == [2, 3]
