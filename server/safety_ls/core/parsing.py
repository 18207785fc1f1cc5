"""Parsing Rust with tree-sitter, including the code inside macros.

tree-sitter leaves macro arguments and `macro_rules!` bodies as flat token
trees, yet clippy checks the unsafe blocks written there. Each such token
tree whose text mentions something a rule looks for is parsed again on its
own, wrapped so that it reads as statements (brace-delimited) or call
arguments (parenthesis/bracket-delimited); the result is a `SyntaxUnit` whose
byte offsets map back to the file by a constant shift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterator, TypeVar

import tree_sitter_rust
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

from safety_ls.core.grammar_gaps import parse_around_gaps

LANGUAGE = Language(tree_sitter_rust.language())

_parser = Parser(LANGUAGE)

# How deep macro arguments are re-parsed (a macro call inside a macro call ...).
MAX_FRAGMENT_DEPTH = 6

_BLOCK_PREFIX = b"fn __safety_ls_fragment(){"
_BLOCK_SUFFIX = b"}"
_ARGS_PREFIX = b"fn __safety_ls_fragment(){__safety_ls_args("
_ARGS_SUFFIX = b");}"



_METAVARIABLE = re.compile(rb"\$(\w+)")


def without_metavariables(body: bytes) -> bytes:
    """A macro_rules! body made to read as Rust, byte for byte the same length.

    `$name` becomes `_name`, and a repetition `$( .. ) sep *` becomes a
    brace group `{ .. }` with its operator blanked, so tree-sitter sees the
    items and statements written inside.
    """
    text = bytearray(_METAVARIABLE.sub(lambda m: b"_" + m.group(1), body))
    index = 0
    while True:
        index = text.find(b"$(", index)
        if index < 0:
            return bytes(text)
        depth, cursor = 0, index + 1
        while cursor < len(text):
            if text[cursor] == ord("("):
                depth += 1
            elif text[cursor] == ord(")"):
                depth -= 1
                if depth == 0:
                    break
            cursor += 1
        if cursor >= len(text):
            return bytes(text)
        text[index : index + 2] = b" {"
        text[cursor] = ord("}")
        operator = cursor + 1
        for _ in range(2):  # an optional separator, then `*`, `+` or `?`
            if operator < len(text) and text[operator] in b"*+?,;":
                stop = text[operator] in b"*+?"
                text[operator] = ord(" ")
                operator += 1
                if stop:
                    break
        index += 2


def parse(data: bytes, old_tree: Tree | None = None) -> Tree:
    """The tree of `data`; where the grammar fails on valid Rust, the tree of the rest (grammar_gaps.py)."""
    tree = _parser.parse(data) if old_tree is None else _parser.parse(data, old_tree)
    if not tree.root_node.has_error:
        return tree
    return parse_around_gaps(_parser.parse, data, tree)


@lru_cache(maxsize=None)
def query(source: str) -> Query:
    return Query(LANGUAGE, source)


def captures(pattern: Query, node: Node) -> dict[str, list[Node]]:
    """The pattern's captures below `node` by name, each list in document order.

    py-tree-sitter's `captures()` keeps no order (py-tree-sitter issue #450): it varied with memory
    layout, and so did which node a caller took first (of two structs of one name, say).
    """
    found = QueryCursor(pattern).captures(node)
    for nodes in found.values():
        in_document_order(nodes)
    return found


def items_at(root: Node, matches: Iterator[re.Match[bytes]], token: str, kinds: tuple[str, ...]) -> Iterator[Node]:
    """The nodes of `kinds` whose `token` (a keyword, an attribute's `#`) is where a text search
    matched, in the order of the matches: items found from their text, where a query would walk
    the whole tree. A match in a comment, a string or a macro's tokens has no such parent."""
    for match in matches:
        found = root.descendant_for_byte_range(match.start(), match.start() + len(token))
        item = found.parent if found is not None and found.type == token else None
        if item is not None and item.type in kinds:
            yield item


K = TypeVar("K")
A = TypeVar("A")


def walk_remembered(
    known: dict[K, A | None], start: Node, key: Callable[[Node], K], step: Callable[[Node], tuple[Node | None, A | None]]
) -> A | None:
    """Follow `step` from `start` (it gives the next node, or None and the answer) until an answer,
    or a node whose answer `known` holds; that answer is remembered for every node passed.

    For the n links of a chain that each ask the same way: walking the rest of the chain from each
    would be quadratic."""
    passed: list[K] = []
    current: Node | None = start
    answer: A | None = None
    while current is not None and (current_key := key(current)) not in known:
        passed.append(current_key)
        current, answer = step(current)
    if current is not None:
        answer = known[current_key]
    for passed_key in passed:
        known[passed_key] = answer
    return answer


def in_document_order(nodes: list[Node]) -> None:
    """Sort `nodes` as they appear in the file, the outer of two that start at one byte first."""
    nodes.sort(key=lambda node: (node.start_byte, -node.end_byte))


@dataclass(eq=False)
class SyntaxUnit:
    """A tree whose nodes map to file offsets by adding `shift`.

    The file itself is a unit with shift 0; a macro token tree parsed again
    is a unit whose `anchor` is the macro invocation or definition in its
    parent unit, and whose bytes outside `user_start..user_end` are the wrapper.
    """

    root: Node
    data: bytes
    shift: int = 0
    anchor: Node | None = None
    parent: "SyntaxUnit | None" = None
    user_start: int = 0
    user_end: int = 0
    children: list["SyntaxUnit"] = field(default_factory=list)
    # tree-sitter finds a node's parent by descending from the root, so walks up deep trees
    # are quadratic; each unit remembers the parents it has looked up, and a look-up records
    # the parent of every node on the way down, so climbing from a deep node costs one descent.
    _parents: dict[int, Node | None] = field(default_factory=dict, repr=False)
    _path: list[Node] = field(default_factory=list, repr=False)  # the last descent, root first
    # For each parent asked about: each named child's previous named sibling (comments included).
    _previous_named: dict[int, dict[int, Node | None]] = field(default_factory=dict, repr=False)
    # Comment-search window (placement.window_floor) of the sites below each node, once known.
    floors: dict[int, int] = field(default_factory=dict, repr=False)
    # The statement whose comment covers the sites below each expression node (placement.enclosing_construct).
    constructs: dict[tuple[int, bool], "tuple[SyntaxUnit, Node] | None"] = field(default_factory=dict, repr=False)
    # Facts modules' per-unit caches, by module name, so that questions every site of a long
    # expression asks (its function, its chain) are answered once per unit, not once per site.
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    def parent_of(self, node: Node) -> Node | None:
        key = node.id
        if key not in self._parents:
            self._record_path_to(node)
            if key not in self._parents:  # not reachable by byte (a zero-width node): ask tree-sitter
                self._parents[key] = node.parent
        return self._parents[key]

    def highest(self, node: Node, kind: str, is_top: Callable[[Node, Node | None], bool]) -> Node:
        """The first node from `node` upwards for which `is_top(node, its parent)` holds,
        remembered (under `kind`) for every node passed (see `walk_remembered`)."""

        def up(current: Node) -> tuple[Node | None, Node | None]:
            parent = self.parent_of(current)
            return (None, current) if is_top(current, parent) else (parent, None)

        known: dict[int, Node | None] = self.memo.setdefault(("highest", kind), {})
        # The root always is a top: there is an answer.
        return walk_remembered(known, node, lambda current: current.id, up)  # type: ignore[return-value]

    def previous_named_sibling(self, node: Node) -> Node | None:
        """`node.prev_named_sibling`, from the cached parent: tree-sitter's own finds the parent by
        descending from the root, once per call, which made walks over deep trees quadratic."""
        parent = self.parent_of(node)
        if parent is None:
            return None
        previous = self._previous_named.get(parent.id)
        if previous is None:
            previous = self._previous_named[parent.id] = {}
            last = None
            for child in parent.named_children:
                previous[child.id] = last
                last = child
        return previous[node.id] if node.id in previous else node.prev_named_sibling

    def preceding_siblings(self, node: Node) -> Iterator[Node]:
        """The named siblings before `node`, nearest first, each preceded by its recovered comments."""
        sibling = self.previous_named_sibling(node)
        while sibling is not None:
            yield from reversed(recovered_comments(sibling))
            yield sibling
            sibling = self.previous_named_sibling(sibling)

    def descendant_for_byte_range(self, start: int, end: int) -> Node | None:
        """The smallest node spanning `start..end`, searched from the deepest node of the last
        descent that spans it (tree-sitter's own search from the root costs the whole depth)."""
        deepest = self._deepest_on_path(start, end)
        origin = self._path[deepest] if deepest >= 0 else self.root
        found = origin.descendant_for_byte_range(start, end)
        if found is not None:
            self.parent_of(found)  # extends the path to it: the next search starts there
        return found

    def _deepest_on_path(self, start: int, end: int) -> int:
        """Index of the deepest node of the last descent spanning `start..end` (-1: none)."""
        path = self._path
        low, high = 0, len(path)  # path[:low] span the range; path[high:] do not
        while low < high:
            middle = (low + high) // 2
            if path[middle].start_byte <= start and end <= path[middle].end_byte:
                low = middle + 1
            else:
                high = middle
        return low - 1

    def _record_path_to(self, node: Node) -> None:
        """Find `node`'s parent by descending to it by its byte range, from the deepest node of the
        previous descent that contains it, noting each node's parent on the way.

        Sites are looked up near each other, so most descents are a step or two; from the root
        each one would cost the whole depth (a chain of 8,000 `+` is 8,000 deep).
        """
        if not self._path:
            self._path = [self.root]
        path = self._path
        deepest = self._deepest_on_path(node.start_byte, node.end_byte)
        if deepest < 0:
            return
        # `node` may be on the path itself, above nodes with the very same range.
        for index in range(deepest, -1, -1):
            if path[index].id == node.id:
                self._parents[node.id] = path[index - 1] if index else None
                return
            if (path[index].start_byte, path[index].end_byte) != (node.start_byte, node.end_byte):
                break
        del path[deepest + 1 :]  # in place: a copy would cost the whole depth on every descent
        parent = path[-1]
        cursor = parent.walk()
        while cursor.goto_first_child_for_byte(node.start_byte) is not None:
            while True:
                child = cursor.node
                if child is None:
                    return
                self._parents[child.id] = parent
                if child.id == node.id:
                    return
                if child.start_byte <= node.start_byte and node.end_byte <= child.end_byte and child.end_byte > child.start_byte:
                    break  # `node` lies inside this child: go down
                if child.start_byte > node.start_byte or not cursor.goto_next_sibling():
                    return
            path.append(child)
            parent = child

    def start(self, node: Node) -> int:
        return node.start_byte + self.shift

    def end(self, node: Node) -> int:
        return node.end_byte + self.shift

    def content_end(self, node: Node) -> int:
        """The file offset where `node` ends, less the comments it holds only by error recovery."""
        recovered = recovered_comments(node)
        return self.start(recovered[0]) if recovered else self.end(node)

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def is_synthetic(self, node: Node) -> bool:
        """True for the wrapper nodes around a macro fragment."""
        return self.parent is not None and (
            node.start_byte < self.user_start or node.end_byte > self.user_end
        )

    def ancestors(self, node: Node) -> Iterator[tuple["SyntaxUnit", Node]]:
        """Parents of `node` as the code reads: out of a macro argument into the invocation's context."""
        unit, current = self, self.parent_of(node)
        while True:
            while current is not None and not unit.is_synthetic(current):
                yield unit, current
                current = unit.parent_of(current)
            if unit.parent is None or unit.anchor is None:
                return
            current = unit.anchor
            unit = unit.parent

    @property
    def in_macro_definition(self) -> bool:
        unit: SyntaxUnit | None = self
        while unit is not None and unit.anchor is not None:
            if unit.anchor.type == "macro_rule":
                return True
            unit = unit.parent
        return False

    def walk_units(self) -> list["SyntaxUnit"]:
        units = [self]
        for child in self.children:
            units.extend(child.walk_units())
        return units


_COMMENTS = ("line_comment", "block_comment")


def recovered_comments(node: Node) -> list[Node]:
    """The comments that end `node` only because of tree-sitter's error recovery, in order.

    Half-typed code such as a stray `x` before an item gets a zero-width MISSING `;` placed after
    the comment lines that follow it, so those comments (an item's docs, its SAFETY comment) end
    up inside the broken statement; they belong before whatever follows it.
    """
    children = node.children
    end = len(children)
    while end and children[end - 1].is_missing:
        end -= 1
    if end == len(children):
        return []
    start = end
    while start and children[start - 1].type in _COMMENTS:
        start -= 1
    return children[start:end]


def build_units(
    tree: Tree, data: bytes, trigger: re.Pattern[bytes] | None, region: tuple[int, int] | None = None
) -> SyntaxUnit:
    """The file's unit with its macro fragments attached, recursively.

    Only token trees whose text matches `trigger` (what the active rules look
    for), inside `region` when given, are parsed again; None parses none.
    """
    root = SyntaxUnit(tree.root_node, data, user_end=len(data))
    if trigger is not None and b"!" in data:
        _attach_fragments(root, trigger, depth=0, region=region or (0, len(data)))
    return root


_MACRO_OWNERS = ("macro_invocation", "macro_rule")


def _macro_token_trees(unit: SyntaxUnit, trigger: re.Pattern[bytes], region: tuple[int, int]) -> list[Node]:
    """The outermost macro token trees holding a match of `trigger`, in order.

    Each match is looked up in the tree and followed up to its macro, which
    is much cheaper than querying the whole tree for macro invocations.
    """
    found: dict[int, Node] = {}
    for match in trigger.finditer(unit.data, *region):
        node = unit.descendant_for_byte_range(match.start(), max(match.end(), match.start() + 1))
        outermost = None
        while node is not None:
            parent = unit.parent_of(node)
            if node.type == "token_tree" and parent is not None and parent.type in _MACRO_OWNERS:
                outermost = node
                break
            if node.type in ("function_item", "impl_item", "source_file"):
                break  # a macro never sits above these
            node = parent
        if outermost is not None and outermost.start_byte not in found:
            found[outermost.start_byte] = outermost
    return [found[start] for start in sorted(found)]


def _attach_fragments(unit: SyntaxUnit, trigger: re.Pattern[bytes], depth: int, region: tuple[int, int]) -> None:
    if depth >= MAX_FRAGMENT_DEPTH:
        return
    for token_tree in _macro_token_trees(unit, trigger, region):
        fragment = _parse_fragment(unit, token_tree, trigger)
        if fragment is not None:
            unit.children.append(fragment)
            _attach_fragments(fragment, trigger, depth + 1, (0, len(fragment.data)))


def _parse_fragment(unit: SyntaxUnit, token_tree: Node, trigger: re.Pattern[bytes]) -> SyntaxUnit | None:
    inner_start, inner_end = token_tree.start_byte + 1, token_tree.end_byte - 1
    if inner_end <= inner_start:
        return None
    interior = unit.data[inner_start:inner_end]
    if not trigger.search(interior):
        return None
    if token_tree.parent is not None and token_tree.parent.type == "macro_rule":
        interior = without_metavariables(interior)
    braces = unit.data[token_tree.start_byte : token_tree.start_byte + 1] == b"{"
    prefix, suffix = (_BLOCK_PREFIX, _BLOCK_SUFFIX) if braces else (_ARGS_PREFIX, _ARGS_SUFFIX)
    fragment_data = prefix + interior + suffix
    tree = parse(fragment_data)
    anchor = token_tree.parent
    return SyntaxUnit(
        root=tree.root_node,
        data=fragment_data,
        shift=unit.shift + inner_start - len(prefix),
        anchor=anchor,
        parent=unit,
        user_start=len(prefix),
        user_end=len(prefix) + len(interior),
    )
