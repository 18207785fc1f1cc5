"""Test code, which `tests = false` leaves out: test targets and `#[cfg(test)]` / `#[test]` items.

Adoption aid: a crate starting to annotate its library code rarely wants its
unit tests, integration tests, benchmarks and examples reported yet.
"""

from __future__ import annotations

import re
from pathlib import Path

from tree_sitter import Node, Tree

from safety_ls.core.parsing import items_at, parse

# Cargo's auto-discovered non-library targets, by directory under the package root.
TEST_TARGET_DIRECTORIES = frozenset({"tests", "benches", "examples"})
_TEST_ATTRIBUTE = re.compile(rb"#\s*\[\s*(?:cfg\s*\(\s*test\s*\)|test\s*\]|bench\s*\])")
_TEST_ATTRIBUTE_TEXT = re.compile(r"^#\s*\[\s*(?:cfg\s*\(\s*test\s*\)|test|bench)\s*\]$")


def is_test_target(file: Path, package_dir: Path | None) -> bool:
    """Whether `file` sits under its package's `tests/`, `benches/` or `examples/` directory
    (without a known package: under any directory of those names)."""
    if package_dir is not None and file.is_relative_to(package_dir):
        parts = file.relative_to(package_dir).parts
        return len(parts) > 1 and parts[0] in TEST_TARGET_DIRECTORIES
    return any(directory in TEST_TARGET_DIRECTORIES for directory in file.parts[:-1])


def test_item_ranges(data: bytes, tree: Tree | None) -> list[tuple[int, int]]:
    """Byte ranges of items marked `#[cfg(test)]`, `#[test]` or `#[bench]`, attributes included."""
    if not _TEST_ATTRIBUTE.search(data):
        return []
    if tree is None or tree.root_node.end_byte < len(data):
        tree = parse(data)  # the analysis parsed nothing (text-only rules): parse for the items
    ranges = []
    # From the attributes' text: a query for every attribute walks the whole tree (17 ms on a
    # 6,000-line file), for the few test attributes the text names.
    for attribute in items_at(tree.root_node, _TEST_ATTRIBUTE.finditer(data), "#", ("attribute_item",)):
        text = data[attribute.start_byte : attribute.end_byte].decode("utf-8", "replace")
        if not _TEST_ATTRIBUTE_TEXT.match(" ".join(text.split())):
            continue
        item: Node | None = attribute.next_named_sibling
        while item is not None and item.type in ("attribute_item", "line_comment", "block_comment"):
            item = item.next_named_sibling
        if item is not None:
            ranges.append((attribute.start_byte, item.end_byte))
    return ranges


def in_ranges(offset: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in ranges)
