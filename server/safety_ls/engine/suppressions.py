"""Silencing findings: `// safety-ls: allow(..)` comments and clippy `allow`/`expect` attributes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

from tree_sitter import Node

from safety_ls.core.findings import Finding
from safety_ls.core.parsing import SyntaxUnit, items_at
from safety_ls.core.source import SourceText
from safety_ls.core.tags import ALLOW_COMMENT
from safety_ls.facts.allows import attributes_of
from safety_ls.rules import ALL_RULES

_LINT_ATTRIBUTE = re.compile(r"^#!?\[\s*(?:allow|expect)\s*\((?P<lints>.*)\)\s*\]$", re.S)
# clippy lint groups that contain the lints our rules mirror.
_LINT_GROUPS = {
    "undocumented_unsafe_blocks": {"clippy::restriction"},
    "missing_safety_doc": {"clippy::style", "clippy::all"},
}
_LINT_ATTRIBUTE_START = re.compile(rb"#!?\[\s*(?:allow|expect)\s*\(")
# Every allow comment holds this: a plain search for it spares most files ALLOW_COMMENT's try at each `//`.
_ALLOW_COMMENT_MARK = b"safety-ls:"


@dataclass
class Suppressions:
    whole_file: set[str] = field(default_factory=set)
    by_line: dict[int, set[str]] = field(default_factory=dict)  # the lines each allow comment covers
    # (start, end, rules) byte ranges silenced by clippy attributes.
    scopes: list[tuple[int, int, frozenset[str]]] = field(default_factory=list)

    def allow_lints_in_file(self, lints: frozenset[str]) -> None:
        """clippy lints allowed for the whole file by its module's attributes."""
        self.whole_file |= _rules_silenced_by(",".join(lints))

    def silences(self, finding: Finding, source: SourceText) -> bool:
        rule = finding.rule
        if rule in self.whole_file or "all" in self.whole_file:
            return True
        rules = self.by_line.get(source.line_of(finding.start))
        if rules and (rule in rules or "all" in rules):
            return True
        return any(start <= finding.start < end and rule in rules for start, end, rules in self.scopes)


def _rule_names(text: bytes) -> set[str]:
    return {part.strip().decode() for part in text.split(b",") if part.strip()}


# Cached: the language server collects a file's allows on every keystroke, and files repeat the
# same few lint lists.
@lru_cache(maxsize=256)
def _rules_silenced_by(lints: str) -> frozenset[str]:
    names = {re.sub(r"\s+", "", lint) for lint in lints.split(",")}
    silenced = set()
    for rule in ALL_RULES.values():
        lint = rule.clippy_lint
        if lint and (f"clippy::{lint}" in names or names & _LINT_GROUPS.get(lint, set())):
            silenced.add(rule.id)
    return frozenset(silenced)


def _scope_of_outer(attribute: Node) -> Node | None:
    sibling = attribute.next_named_sibling
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        sibling = sibling.next_named_sibling
    return sibling


def _in_comment(root: Node, offset: int) -> bool:
    """Whether the `//` at byte `offset` opens a comment (rather than sitting in a string)."""
    node: Node | None = root.descendant_for_byte_range(offset, offset + 2)
    while node is not None and node.type not in ("line_comment", "block_comment"):
        if node.type in ("string_literal", "raw_string_literal", "char_literal"):
            return False
        node = node.parent
    return node is not None


def _next_code_line(source: SourceText, line: int, trailing: bool) -> int:
    """The line after an allow comment's `line`, past the annotations written (or inserted by a
    fix) between the comment and its code: `//` comment lines and, below a trailing comment, the
    blank line that keeps rustfmt from indenting them under it."""

    def is_comment(number: int) -> bool:
        return number < source.line_count and source.line_bytes(number).lstrip().startswith(b"//")

    following = line + 1
    if trailing and following < source.line_count and not source.line_bytes(following).strip() and is_comment(following + 1):
        following += 1
    while is_comment(following):
        following += 1
    return following


def collect(source: SourceText, unit: SyntaxUnit, region: tuple[int, int] | None = None) -> Suppressions:
    """The file's allow comments, and the scopes its lint attributes silence; with `region` (a
    function item, as the language server re-analyses), only the scopes that can hold a finding
    in it."""
    found = Suppressions()
    parsed = bool(unit.data)  # text-only analyses carry an empty tree
    comments = ALLOW_COMMENT.finditer(source.data) if _ALLOW_COMMENT_MARK in source.data else ()
    for match in comments:
        if parsed and not _in_comment(unit.root, match.start()):
            continue  # `"// safety-ls: allow(..)"` in a string literal is code, not a suppression
        rules = _rule_names(match.group("rules"))
        if match.group("file"):
            found.whole_file |= rules
        else:
            line = source.line_of(match.start())
            trailing = bool(source.data[source.line_starts[line] : match.start()].strip())
            for covered in (line, _next_code_line(source, line, trailing)):
                found.by_line.setdefault(covered, set()).update(rules)
    if not parsed:
        return found
    for attribute in _lint_attributes(unit, region):
        match = _LINT_ATTRIBUTE.match(unit.text(attribute))
        rules = _rules_silenced_by(match.group("lints")) if match else frozenset()
        if not rules:
            continue
        scope = _scope_of_outer(attribute) if attribute.type == "attribute_item" else attribute.parent
        if scope is not None:
            found.scopes.append((unit.start(scope), unit.end(scope), rules))
    return found


def _lint_attributes(unit: SyntaxUnit, region: tuple[int, int] | None) -> Iterator[Node]:
    """The attributes that may allow or expect lints: all of them, or those whose scope can hold
    a finding in `region`, the attributes inside it and those of the items and blocks around it
    (a 6,000-line file has dozens elsewhere, and the server looks on every keystroke)."""
    low, high = (0, len(unit.data)) if region is None else region  # the file's unit: its offsets are the file's
    candidates = _LINT_ATTRIBUTE_START.finditer(unit.data, low, high)
    yield from items_at(unit.root, candidates, "#", ("attribute_item", "inner_attribute_item"))
    if region is None:
        return
    around: Node | None = unit.descendant_for_byte_range(low, high)
    while around is not None:
        if around.start_byte < low:  # its inner attributes come before the region
            yield from (child for child in around.named_children if child.type == "inner_attribute_item")
        yield from attributes_of(unit, around)
        around = unit.parent_of(around)


def unknown_rules(suppressions: Suppressions) -> set[str]:
    """Rule names in allow comments that are not rule ids (typos are worth telling)."""
    named = set(suppressions.whole_file)
    for rules in suppressions.by_line.values():
        named |= rules
    return {name for name in named if name not in ALL_RULES and name != "all"}
