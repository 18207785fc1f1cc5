"""Valid Rust that tree-sitter-rust cannot parse, blanked out so that the rest of the file parses.

Where the grammar reports an error on code rustc accepts, the text it trips on
is replaced, byte for byte, by spaces (or, for `~`, by another punctuation
token), and the file is parsed again. Offsets, lines and columns stay those of
the real text, which everything else still reads; only the tree changes. None
of the blanked constructs can hold a site a rule checks. An error that is not
one of these gaps stays, and is reported as a syntax error. docs/grammar-gaps.md
lists them, each with an example that tests/core/test_grammar_gaps.py checks.
"""

from __future__ import annotations

import re
from typing import Callable, Iterator

from tree_sitter import Node, Tree

# A repair: given an ERROR node and the text, the byte ranges to blank and what to put there.
Patch = tuple[int, int, bytes]

_ATTRIBUTES = re.compile(rb"\s*(?:#\[[^\]]*\]\s*)+")
_FOREIGN_TYPE = re.compile(rb"(?:pub(?:\([^)]*\))?\s+)?type\s+\w+\s*$")
# Rounds of repair and reparse: one gap can hide the next (two attributes on one parameter).
MAX_ROUNDS = 4


def _parameter_attributes(node: Node, data: bytes) -> Iterator[Patch]:
    """`fn f(#[a] #[b] x: T)`: the grammar takes one attribute per parameter, and none on some."""
    if node.parent is not None and node.parent.type in ("parameters", "closure_parameters"):
        text = data[node.start_byte : node.end_byte]
        if _ATTRIBUTES.fullmatch(text):
            yield node.start_byte, node.end_byte, _blank(text)


def _safe_in_extern_block(node: Node, data: bytes) -> Iterator[Patch]:
    """`unsafe extern "C" { safe fn f(); }` (Rust 2024): the `safe` qualifier."""
    if data[node.start_byte : node.end_byte] == b"safe":
        yield node.start_byte, node.end_byte, b"    "


def _foreign_type(node: Node, data: bytes) -> Iterator[Patch]:
    """`extern "C" { type Opaque; }` (extern types): the whole declaration, its `;` included."""
    if node.parent is not None and node.parent.type == "declaration_list" and _FOREIGN_TYPE.fullmatch(data[node.start_byte : node.end_byte]):
        end = node.end_byte
        while end < len(data) and data[end : end + 1] in (b" ", b"\t"):
            end += 1
        if data[end : end + 1] == b";":
            yield node.start_byte, end + 1, _blank(data[node.start_byte : end + 1])


def _tilde_token(node: Node, data: bytes) -> Iterator[Patch]:
    """`~` in a macro's tokens (`seq!`'s `p~N` pastes): rustc lexes it, the grammar does not."""
    if data[node.start_byte : node.end_byte] == b"~" and any(a.type == "token_tree" for a in _ancestors(node)):
        yield node.start_byte, node.end_byte, b"-"


REPAIRS: tuple[Callable[[Node, bytes], Iterator[Patch]], ...] = (
    _parameter_attributes,
    _safe_in_extern_block,
    _foreign_type,
    _tilde_token,
)


def _ancestors(node: Node) -> Iterator[Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _blank(text: bytes) -> bytes:
    """Spaces in place of `text`, its line breaks kept (so line numbers do not move)."""
    return bytes(byte if byte in b"\r\n" else 0x20 for byte in text)


def _error_nodes(tree: Tree) -> list[Node]:
    found, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error:
            found.append(node)
        if node.has_error:  # only children with an error below them are worth a visit: a module's items are many
            stack.extend(child for child in node.children if child.has_error)
    return found


def repaired(data: bytes, tree: Tree) -> bytes | None:
    """`data` with the grammar gaps under `tree`'s errors blanked, or None when there are none."""
    patches = [patch for node in _error_nodes(tree) for repair in REPAIRS for patch in repair(node, data)]
    if not patches:
        return None
    text = bytearray(data)
    for start, end, replacement in patches:
        text[start:end] = replacement
    return bytes(text)


def parse_around_gaps(parse: Callable[[bytes], Tree], data: bytes, tree: Tree) -> Tree:
    """The tree of `data` with its grammar gaps repaired, or `tree` when nothing needed repair."""
    text = data
    for _ in range(MAX_ROUNDS):
        if not tree.root_node.has_error:
            break
        fixed = repaired(text, tree)
        if fixed is None:
            break
        text, tree = fixed, parse(fixed)
    return tree
