"""Whole-word and line-start searches written for the regex engine's fast literal scan find
exactly what `\\bword` and `^prefix` patterns find."""

from __future__ import annotations

import re

from safety_ls.core.triggers import line_items, word

TEXT = b"""use a::b;
    pub use c::{d, e as f};
pub(crate) use g;
// we use x; reuse y;
let s = "use z;"; unsafe_fn(); r#unsafe; unsafe { dyn_x } unsafe
fn reused() {} use_it();
#![allow(clippy::x)]
x #![allow(clippy::y)]
"""


def test_a_word_pattern_matches_where_a_leading_word_boundary_does() -> None:
    for words in (("unsafe",), ("use", "dyn"), ("as_str", "as_bytes")):
        plain = re.compile(rb"\b(?:" + b"|".join(w.encode() for w in words) + rb")\b")
        fast = re.compile(word(*words) + rb"\b")
        assert [m.span() for m in fast.finditer(TEXT)] == [m.span() for m in plain.finditer(TEXT)]


def test_line_items_match_what_a_multiline_anchor_matches() -> None:
    anchored = re.compile(rb"^[ \t]*(pub(?:\([^)]*\))?[ \t]+)?use[ \t]+([^;]+);", re.M)
    found = [(before.group(1), item.group(1)) for before, item in line_items(
        TEXT, re.compile(rb"use[ \t]+([^;]+);"), re.compile(rb"[ \t]*(pub(?:\([^)]*\))?[ \t]+)?")
    )]
    assert found == [(m.group(1), m.group(2)) for m in anchored.finditer(TEXT)]
    assert [tree for _, tree in found] == [b"a::b", b"c::{d, e as f}", b"g"]


def test_line_items_start_no_earlier_than_the_position_given() -> None:
    attribute = re.compile(rb"#!\[allow\(([^)]*)\)\]")
    indent = re.compile(rb"[ \t]*")
    start = TEXT.index(b"#![allow(clippy::x)]")
    assert [m.group(1) for _, m in line_items(TEXT, attribute, indent)] == [b"clippy::x"]
    assert list(line_items(TEXT, attribute, indent, start + 1)) == []
