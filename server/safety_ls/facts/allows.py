"""clippy `#[allow(..)]` / `#[expect(..)]` attributes on a site's statement or its enclosing items.

An author who silences the matching clippy lint on a statement or a function
has already decided about the sites inside it; with a reason written next to
the allow, the conventions' tags have nothing left to ask.
"""

from __future__ import annotations

import itertools
import re
from typing import Iterator

from tree_sitter import Node

from safety_ls.core.parsing import SyntaxUnit

_ATTACHED = ("attribute_item", "line_comment", "block_comment")

# A module's items or a long function's statements: listing them all for one node's attributes cost
# the language server a tenth of a millisecond per keystroke. Above this many named children, the
# siblings right before the node are asked for instead: tree-sitter finds each by a walk in C.
_WIDE = 64
_LONGEST_RUN = 16  # attached siblings followed back before listing the parent's children after all
_WALKS_PER_PARENT = 8  # then each further walk would cost more than listing the children once


def attributes_of(unit: SyntaxUnit, node: Node) -> list[Node]:
    """The attributes written on `node` (directly above it, comments between allowed), nearest first.

    Worked out once for all the children of `node`'s parent, except for the first few questions
    about a wide parent: tree-sitter's prev_named_sibling climbs from the root each time, which made
    every site of a deep expression quadratic, and so would a question about each of many statements.
    """
    parent = unit.parent_of(node)
    if parent is None:
        return []
    by_parent: dict[int, dict[int, list[Node]]] = unit.memo.setdefault((__name__, "attributes"), {})
    children = by_parent.get(parent.id)
    if children is None and parent.named_child_count > _WIDE:
        walks: dict[int, int] = unit.memo.setdefault((__name__, "walks"), {})
        walks[parent.id] = walks.get(parent.id, 0) + 1
        if walks[parent.id] <= _WALKS_PER_PARENT and (found := _attributes_walking_back(node)) is not None:
            return found
    if children is None:
        children = by_parent[parent.id] = {}
        run: list[Node] = []  # the attributes of the current run of attached siblings, nearest last
        # Only children with attributes above them are noted: an item list of a few hundred is
        # walked on every keystroke of the language server.
        for child in parent.named_children:
            if run:
                children[child.id] = run[::-1]
            kind = child.type
            if kind == "attribute_item":
                run.append(child)
            elif run and kind not in _ATTACHED:
                run = []
    return children.get(node.id, [])


def _attributes_walking_back(node: Node) -> list[Node] | None:
    """`attributes_of` from `node`'s previous siblings, or None for a run too long to follow so."""
    attributes = []
    sibling = node.prev_named_sibling
    for _ in range(_LONGEST_RUN):
        if sibling is None or sibling.type not in _ATTACHED:
            return attributes
        if sibling.type == "attribute_item":
            attributes.append(sibling)
        sibling = sibling.prev_named_sibling
    return None


def allows(unit: SyntaxUnit, attribute: Node, lints: tuple[str, ...]) -> bool:
    """Whether `attribute` is an allow/expect naming one of the clippy `lints` (a name ending in `_` is a prefix)."""
    names = "|".join(re.escape(lint) + (r"\w*" if lint.endswith("_") else r"\b") for lint in lints)
    return bool(re.search(r"\b(allow|expect)\s*\([^\]]*\bclippy\s*::\s*(" + names + ")", unit.text(attribute)))


def enclosing_allows(unit: SyntaxUnit, site: Node, lints: tuple[str, ...]) -> Iterator[tuple[SyntaxUnit, Node, Node, Node]]:
    """(unit, annotated node, its first attribute, the allow) for each allow of `lints` on the
    site or a node enclosing it (a statement, a fn, an impl, a module), innermost first.

    The answer for a node and everything above it is remembered (per unit and lints), so the
    sites of one deep expression share the climb instead of each making it.
    """
    walked: list[tuple[SyntaxUnit, Node, dict[int, tuple]]] = []
    above: tuple[tuple[SyntaxUnit, Node, Node, Node], ...] = ()
    for owner, node in itertools.chain([(unit, site)], unit.ancestors(site)):
        known: dict[int, tuple] = owner.memo.setdefault((__name__, lints), {})
        if node.id in known:
            above = known[node.id]
            break
        walked.append((owner, node, known))
    for owner, node, known in reversed(walked):
        attributes = attributes_of(owner, node)
        own = tuple((owner, node, attributes[-1], attribute) for attribute in attributes if allows(owner, attribute, lints))
        above = own + above
        known[node.id] = above
    return iter(above)
