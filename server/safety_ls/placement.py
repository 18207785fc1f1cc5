"""Where an annotation must stand, for every tag (docs/clippy-placement.md).

clippy's `undocumented_unsafe_blocks` reads source lines, not syntax: it
looks at the lines directly above the site's line, skipping blank lines,
bounded below by the start of the enclosing function body. It then also
accepts a comment above the statement that holds the site. The same logic
is applied to PROMOTE, CONTIGUOUS and CAST, so that one placement rule holds
for every tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from .parsing import SyntaxUnit
from .source import SourceText

SAFETY = "SAFETY"

STATEMENT_TYPES = frozenset(
    {"let_declaration", "expression_statement", "const_item", "static_item"}
)
ITEM_BOUNDARIES = frozenset(
    {
        "function_item",
        "impl_item",
        "trait_item",
        "mod_item",
        "struct_item",
        "enum_item",
        "union_item",
        "source_file",
        "macro_definition",
    }
)
_BRANCHY_PARENTS = frozenset({"match_arm", "else_clause"})
_BLOCK_TYPES = frozenset({"block", "declaration_list"})


@dataclass(frozen=True)
class PlacementOptions:
    accept_comment_above_statement: bool = True
    accept_comment_above_attributes: bool = True


@dataclass(frozen=True)
class CommentRun:
    """Consecutive comment lines (or one block comment) above a line."""

    first_line: int
    last_line: int
    lines: tuple[str, ...]  # each line stripped of leading whitespace
    is_block: bool


@dataclass(frozen=True)
class Annotation:
    tag: str
    line: int  # 0-based line holding the tag
    reason: str  # the text after `TAG:` including continuation lines
    start: int  # byte offset of the tagged line's first comment character
    end: int  # byte offset of the end of the tagged line


# --- comment runs over raw lines -----------------------------------------------------


def _stripped_line(source: SourceText, line: int) -> bytes:
    return source.line_bytes(line).lstrip()


def comment_run_above(source: SourceText, line: int, floor: int) -> CommentRun | None:
    """The comment run that ends directly above `line`, clippy's way.

    Lines after `floor` and before `line` are read upward; blank lines are
    skipped. A run of `//` lines wins; otherwise the nearest line that opens
    a block comment must start a single comment followed only by whitespace.
    """
    current = line - 1
    while current > floor and not _stripped_line(source, current):
        current -= 1
    if current <= floor:
        return None
    first = _stripped_line(source, current)
    if first.startswith(b"//"):
        collected = [current]
        probe = current - 1
        while probe > floor:
            text = _stripped_line(source, probe)
            if text.startswith(b"//"):
                collected.append(probe)
            elif text:
                break
            probe -= 1
        collected.reverse()
        return CommentRun(
            collected[0],
            collected[-1],
            tuple(_stripped_line(source, n).decode("utf-8", "replace") for n in collected),
            is_block=False,
        )
    probe = current
    while probe > floor:
        if _stripped_line(source, probe).startswith(b"/*"):
            start = source.line_starts[probe]
            end = source.line_starts[line]
            segment = source.data[start:end].decode("utf-8", "replace").strip()
            if _is_single_block_comment(segment):
                return CommentRun(probe, current, (segment,), is_block=True)
            return None
        probe -= 1
    return None


def _is_single_block_comment(text: str) -> bool:
    if not text.startswith("/*"):
        return False
    depth, index = 0, 0
    while index < len(text):
        pair = text[index : index + 2]
        if pair == "/*":
            depth += 1
            index += 2
        elif pair == "*/":
            depth -= 1
            index += 2
            if depth == 0:
                return not text[index:].strip()
        else:
            index += 1
    return False


_CODE_FENCE = re.compile(r"^(?://[/!]?)\s*```")


def run_has_tag(run: CommentRun, tag: str) -> int | None:
    """Index of the run line that carries `tag`, or None.

    SAFETY matches as clippy does: case-insensitive, anywhere in a line,
    colon required, not inside a fenced code block of a doc comment. Other
    tags must open the comment's text, written as the conventions write them.
    """
    if tag == SAFETY:
        in_fence = False
        for index, text in enumerate(run.lines):
            if not run.is_block and _CODE_FENCE.match(text):
                in_fence = not in_fence
            if "SAFETY:" in text.upper() and not in_fence:
                return index
        return None
    for index, text in enumerate(run.lines):
        body = _comment_body(text)
        if body.startswith(tag + ":"):
            return index
    return None


def _comment_body(text: str) -> str:
    for opener in ("///", "//!", "//", "/*!", "/**", "/*"):
        if text.startswith(opener):
            return text[len(opener) :].strip()
    return text.strip()


def annotation_from_run(source: SourceText, run: CommentRun, index: int, tag: str) -> Annotation:
    if run.is_block:
        body = run.lines[0]
        body = body[2:-2] if body.endswith("*/") else body[2:]
        position = body.upper().find(tag + ":")
        reason = body[position + len(tag) + 1 :] if position >= 0 else body
        reason = " ".join(part.strip(" *") for part in reason.splitlines())
        line = run.first_line
    else:
        line = run.first_line + _run_line_numbers(source, run)[index]
        text = run.lines[index]
        position = text.upper().find(tag + ":")
        reason_parts = [text[position + len(tag) + 1 :]]
        for follow in run.lines[index + 1 :]:
            body = _comment_body(follow)
            if re.match(r"^[A-Z_]{3,}:", body):
                break
            reason_parts.append(body)
        reason = " ".join(part.strip() for part in reason_parts)
    start, end = source.line_bounds(line)
    leading = len(source.data[start:end]) - len(source.data[start:end].lstrip())
    return Annotation(tag=tag, line=line, reason=reason.strip(), start=start + leading, end=end)


def _run_line_numbers(source: SourceText, run: CommentRun) -> list[int]:
    """Offsets from run.first_line of each collected line (blank lines skipped)."""
    offsets = []
    for number in range(run.first_line, run.last_line + 1):
        if _stripped_line(source, number).startswith(b"//"):
            offsets.append(number - run.first_line)
    return offsets


# --- syntax context ---------------------------------------------------------------


def file_node(unit: SyntaxUnit, node: Node) -> tuple[SyntaxUnit, Node]:
    """Climb out of macro fragments: the host node standing for `node`."""
    while unit.parent is not None and unit.anchor is not None:
        node = unit.anchor
        unit = unit.parent
    return unit, node


def body_floor(source: SourceText, unit: SyntaxUnit, node: Node) -> int:
    """The line below which comments may not be searched (-1: file start).

    That is the line where the innermost enclosing function body (or inline
    module, or trait/impl body) opens, so a comment above the `fn` never counts.
    """
    current: Node | None = node.parent
    while True:
        while current is not None:
            if unit.is_synthetic(current):
                current = None
                break
            kind = current.type
            if kind == "function_item":
                body = current.child_by_field_name("body")
                if body is not None and node.start_byte >= body.start_byte:
                    return source.line_of(unit.start(body))
            elif kind == "declaration_list":
                return source.line_of(unit.start(current))
            current = current.parent
        if unit.parent is None or unit.anchor is None:
            return -1
        if unit.anchor.type == "macro_rule":
            # Inside a macro_rules! arm, the arm's opening brace bounds the search.
            return source.line_of(unit.shift + unit.user_start - 1)
        node = unit.anchor
        current = unit.anchor.parent
        unit = unit.parent


def attributes_above(node: Node) -> Node | None:
    """The first of the attribute items (and interleaved comments) directly before `node`."""
    first = None
    sibling = node.prev_named_sibling
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        if sibling.type == "attribute_item":
            first = sibling
        sibling = sibling.prev_named_sibling
    return first


def enclosing_statement(unit: SyntaxUnit, node: Node, allow_simple_closures: bool) -> tuple[SyntaxUnit, Node] | None:
    """The statement whose comment covers `node`, or None.

    Walking up stops at match arms, `if` branches, block values and closure
    bodies (single-expression closures pass when `allow_simple_closures`).
    A block's tail expression counts as a statement.
    """
    child = node
    current = node.parent
    while True:
        while current is not None:
            if unit.is_synthetic(current):
                break
            kind = current.type
            if kind in STATEMENT_TYPES:
                return unit, current
            if kind in _BRANCHY_PARENTS or kind in ITEM_BOUNDARIES:
                return None
            if kind == "if_expression" and child.id != _field_id(current, "condition"):
                return None
            if kind == "closure_expression":
                body = current.child_by_field_name("body")
                if not allow_simple_closures or body is None or body.type == "block":
                    return None
            if kind in _BLOCK_TYPES or kind == "unsafe_block":
                if current.type == "block" and _is_tail_expression(current, child):
                    return unit, child
                return None
            child, current = current, current.parent
        if unit.parent is None or unit.anchor is None:
            return None
        child = unit.anchor
        current = unit.anchor.parent
        unit = unit.parent


def _field_id(node: Node, name: str) -> int | None:
    found = node.child_by_field_name(name)
    return found.id if found is not None else None


def _is_tail_expression(block: Node, child: Node) -> bool:
    last = block.named_child(block.named_child_count - 1) if block.named_child_count else None
    return (
        last is not None
        and last.id == child.id
        and child.type not in STATEMENT_TYPES
        and not child.type.endswith("_item")
        and child.type not in ("line_comment", "block_comment", "attribute_item")
    )


# --- the one entry point ----------------------------------------------------------


def find_annotation(
    source: SourceText,
    unit: SyntaxUnit,
    site: Node,
    site_offset: int,
    tag: str,
    options: PlacementOptions,
) -> Annotation | None:
    """The annotation with `tag` that covers the site, or None."""
    site_line = source.line_of(site_offset)
    floor = body_floor(source, unit, site)
    run = comment_run_above(source, site_line, floor)
    if run is not None and (index := run_has_tag(run, tag)) is not None:
        return annotation_from_run(source, run, index, tag)
    if tag == SAFETY and (inside := _comment_inside_braces(source, unit, site)) is not None:
        return inside
    if options.accept_comment_above_statement:
        found = enclosing_statement(unit, site, allow_simple_closures=tag != SAFETY)
        if found is not None:
            statement_unit, statement = found
            anchor = statement
            if options.accept_comment_above_attributes:
                anchor = attributes_above(statement) or statement
            anchor_line = source.line_of(statement_unit.start(anchor))
            if anchor_line < site_line or anchor is not statement:
                floor = body_floor(source, statement_unit, statement)
                run = comment_run_above(source, anchor_line, floor)
                if run is not None and (index := run_has_tag(run, tag)) is not None:
                    return annotation_from_run(source, run, index, tag)
            if tag == SAFETY:
                return _end_of_line_comment(source, statement_unit, statement, site_line)
    return None


def _comment_inside_braces(source: SourceText, unit: SyntaxUnit, site: Node) -> Annotation | None:
    """`unsafe { // SAFETY: ...`: the first thing inside the block's braces."""
    if site.type != "unsafe_block":
        return None
    block = site.named_child(0)
    if block is None or block.type != "block":
        return None
    first = block.named_child(0)
    if first is None or first.type not in ("line_comment", "block_comment"):
        return None
    text = unit.text(first)
    if "SAFETY:" not in text.upper():
        return None
    line = source.line_of(unit.start(first))
    position = text.upper().find("SAFETY:")
    reason = text[position + 7 :]
    if first.type == "block_comment":
        reason = reason.rstrip("/").rstrip("*")
    return Annotation(SAFETY, line, reason.strip(), unit.start(first), unit.end(first))


def _end_of_line_comment(source: SourceText, unit: SyntaxUnit, statement: Node, site_line: int) -> Annotation | None:
    """`let x = // SAFETY: ...` with the site on the next line."""
    statement_line = source.line_of(unit.start(statement))
    if statement_line != site_line - 1:
        return None
    start, end = source.line_bounds(statement_line)
    line_text = source.data[start:end].decode("utf-8", "replace")
    marker = line_text.find("//")
    if marker <= 0 or not line_text[:marker].strip():
        return None
    comment = line_text[marker:]
    if "SAFETY:" not in comment.upper():
        return None
    reason = comment[comment.upper().find("SAFETY:") + 7 :]
    offset = start + len(line_text[:marker].encode("utf-8"))
    return Annotation(SAFETY, statement_line, reason.strip(), offset, end)
