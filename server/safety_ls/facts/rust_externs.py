"""The functions a Rust file declares in `extern "C" { .. }` blocks: name, parameter types, return type.

Read from the file's syntax tree: `extern "C"` (and `unsafe extern "C"`,
`extern "system"` is skipped) blocks, `#[link_name = ".."]` honoured, variadic
declarations (`fn printf(fmt: *const c_char, ...)`) left out since any
argument count fits them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from safety_ls.core.parsing import SyntaxUnit

_LINKAGES = ('"C"', '"C-unwind"')


@dataclass(frozen=True)
class ExternDeclaration:
    name: str  # the symbol linked to (`link_name` when given)
    parameters: tuple[tuple[str, str], ...]  # (pattern, type) as written
    return_type: str  # `()` when none
    start: int  # file offsets of the declaration's name: where findings point
    end: int


def _link_name(item: Node, unit: SyntaxUnit) -> str | None:
    """`#[link_name = "x"]` among the attributes right before `item`."""
    sibling = unit.previous_named_sibling(item)
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        text = unit.text(sibling)
        if sibling.type == "attribute_item" and "link_name" in text and '"' in text:
            return text.split('"')[1]
        sibling = unit.previous_named_sibling(sibling)
    return None


def _declaration(item: Node, unit: SyntaxUnit) -> ExternDeclaration | None:
    name = item.child_by_field_name("name")
    parameters = item.child_by_field_name("parameters")
    if name is None or parameters is None:
        return None
    pairs = []
    for parameter in parameters.named_children:
        if parameter.type == "variadic_parameter":
            return None
        if parameter.type != "parameter":
            continue
        pattern, kind = parameter.child_by_field_name("pattern"), parameter.child_by_field_name("type")
        if kind is None:
            return None
        pairs.append((unit.text(pattern) if pattern is not None else "_", unit.text(kind)))
    returned = item.child_by_field_name("return_type")
    return ExternDeclaration(
        name=_link_name(item, unit) or unit.text(name),
        parameters=tuple(pairs),
        return_type=unit.text(returned) if returned is not None else "()",
        start=unit.start(name),
        end=unit.end(name),
    )


def declarations_in(unit: SyntaxUnit, block: Node) -> list[ExternDeclaration]:
    """The functions an `extern "C" { .. }` block (a `foreign_mod_item`) declares; none for another ABI."""
    modifier = next((c for c in block.children if c.type == "extern_modifier"), None)
    abi = next((c for c in modifier.children if c.type == "string_literal"), None) if modifier else None
    body = block.child_by_field_name("body")
    if body is None or (abi is not None and unit.text(abi) not in _LINKAGES):
        return []
    return [
        declaration
        for item in body.named_children
        if item.type == "function_signature_item" and (declaration := _declaration(item, unit)) is not None
    ]


def extern_c_declarations(unit: SyntaxUnit) -> list[ExternDeclaration]:
    """Every function declared in the `extern "C"` blocks of `unit` (not its macro fragments), in order."""
    found = []
    pending = [unit.root]
    while pending:
        node = pending.pop()
        if node.type == "foreign_mod_item":
            found.extend(declarations_in(unit, node))
        elif node.type not in ("function_item", "impl_item", "trait_item") or b"extern" in (node.text or b""):
            pending.extend(reversed(node.named_children))
    return sorted(found, key=lambda declaration: declaration.start)
