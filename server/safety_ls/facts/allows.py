"""clippy `#[allow(..)]` / `#[expect(..)]` attributes on a site's statement or its enclosing items.

An author who silences the matching clippy lint on a statement or a function
has already decided about the sites inside it; with a reason written next to
the allow, the conventions' tags have nothing left to ask.
"""

from __future__ import annotations

import re
from typing import Iterator

from tree_sitter import Node

from safety_ls.core.parsing import SyntaxUnit

_ATTACHED = ("attribute_item", "line_comment", "block_comment")


def _attributes_of(node: Node) -> list[Node]:
    """The attributes written on `node` (directly above it, comments between allowed), nearest first."""
    found = []
    sibling = node.prev_named_sibling
    while sibling is not None and sibling.type in _ATTACHED:
        if sibling.type == "attribute_item":
            found.append(sibling)
        sibling = sibling.prev_named_sibling
    return found


def allows(unit: SyntaxUnit, attribute: Node, lints: tuple[str, ...]) -> bool:
    """Whether `attribute` is an allow/expect naming one of the clippy `lints` (a name ending in `_` is a prefix)."""
    names = "|".join(re.escape(lint) + (r"\w*" if lint.endswith("_") else r"\b") for lint in lints)
    return bool(re.search(r"\b(allow|expect)\s*\([^\]]*\bclippy\s*::\s*(" + names + ")", unit.text(attribute)))


def enclosing_allows(unit: SyntaxUnit, site: Node, lints: tuple[str, ...]) -> Iterator[tuple[SyntaxUnit, Node, Node, Node]]:
    """(unit, annotated node, its first attribute, the allow) for each allow of `lints` on the
    site or a node enclosing it (a statement, a fn, an impl, a module), innermost first."""
    for owner, node in [(unit, site), *unit.ancestors(site)]:
        attributes = _attributes_of(node)
        for attribute in attributes:
            if allows(owner, attribute, lints):
                yield owner, node, attributes[-1], attribute
