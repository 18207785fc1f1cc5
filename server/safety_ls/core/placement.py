"""Where an annotation must stand, for every tag (docs/clippy-placement.md).

clippy 1.95's `undocumented_unsafe_blocks` reads source lines, not syntax:
it looks at the lines above the site's line, within a window that starts
after the enclosing `fn` item's first line (or after the previous item, for
items), skipping blank and one-line attribute lines. It also accepts a
comment above the construct (statement, `let`, assignment, const/static)
that the site reaches through expression parents only. PROMOTE, CONTIGUOUS
and CAST start from the same logic and are more lenient where their authors
annotate the statement rather than the line (docs/clippy-placement.md §6):
attributes of any length are transparent, and a comment above a statement
also covers sites in its single-expression branches and closures. The
in-braces form is for SAFETY only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.settings import PlacementOptions
from safety_ls.core.source import SourceText
from safety_ls.core.tags import NEXT_TAG, SAFETY


@dataclass(frozen=True)
class Annotation:
    tag: str
    line: int  # 0-based line holding the tag
    reason: str  # the text after `TAG:`, with the comment's continuation lines
    start: int  # byte offset where the tagged comment starts
    end: int  # byte offset of the end of the tagged line


# --- reading lines the way clippy does ------------------------------------------------


def _stripped(source: SourceText, line: int) -> bytes:
    return source.line_bytes(line).strip()


def _is_attribute_line(text: bytes) -> bool:
    return (text.startswith(b"#[") or text.startswith(b"#!")) and text.endswith(b"]")


def _contains_tag(text: str, tag: str) -> int:
    """Where `TAG:` appears in a line: case-insensitive for SAFETY, as written otherwise."""
    if tag == SAFETY:
        return text.upper().find("SAFETY:")
    return text.find(tag + ":")


def _starts_with_tag(comment: str, tag: str) -> bool:
    """The comment, less its two-character opener and leading space, opens with `TAG:`."""
    body = comment[2:].lstrip()
    if tag == SAFETY:
        return body[:7].upper() == "SAFETY:"
    return body.startswith(tag + ":")


def _first_comment_opener(text: str) -> int:
    positions = [p for p in (text.find("//"), text.find("/*")) if p >= 0]
    return min(positions) if positions else -1


def _annotation(source: SourceText, line: int, column_text: str, tag: str, continuation: list[str]) -> Annotation:
    """An Annotation for `column_text` (the comment from its opener on) on `line`."""
    start, end = source.line_bounds(line)
    raw = source.data[start:end].decode("utf-8", "replace")
    opener = raw.find(column_text[:2]) if column_text else 0
    position = _contains_tag(column_text, tag)
    reason = column_text[position + len(tag) + 1 :] if position >= 0 else column_text
    if reason.rstrip().endswith("*/"):
        reason = reason.rstrip()[:-2]
    parts = [reason] + continuation
    text = " ".join(part.strip(" \t*") for part in parts if part.strip(" \t*"))
    return Annotation(tag, line, text.strip(), start + len(raw[: max(opener, 0)].encode("utf-8")), end)


# Placement ends a run at any tag in any case: `// cast: ...` below a SAFETY line is a new annotation.
_NEXT_TAG = re.compile(NEXT_TAG.pattern, re.I)


def _comment_body(text: str) -> str:
    return text.lstrip("/!").strip()


# How far up a multi-line attribute's `#[` is looked for (candle-mi's longest `#[allow(` lists are ~10 lines).
_LONGEST_ATTRIBUTE = 64


def _multi_line_attribute_start(source: SourceText, last: int, floor: int) -> int | None:
    """The line holding the `#[` of a multi-line attribute whose closing `]` ends line `last`."""
    closing = _stripped(source, last)
    if not closing.endswith(b"]") or closing.count(b"]") <= closing.count(b"["):
        return None  # `)]` closes a bracket opened above; `x[i]` does not
    depth = 0
    for current in range(last, max(floor, last - _LONGEST_ATTRIBUTE), -1):
        text = _stripped(source, current)
        if current != last and text.endswith((b";", b"{", b"}")):
            return None  # a statement or block boundary: not inside one attribute
        depth += text.count(b"]") - text.count(b"[")
        if text.startswith((b"#[", b"#![")):
            return current if depth == 0 else None
    return None


def _next_line_up(source: SourceText, current: int, floor: int, tag: str, options: PlacementOptions) -> int:
    """The nearest line above `current` (and after `floor`) that is neither blank nor a skipped attribute; -1 if none."""
    skip_attributes = options.accept_comment_above_attributes
    current -= 1
    while current > floor:
        text = _stripped(source, current)
        if text and not (skip_attributes and _is_attribute_line(text)):
            start = _multi_line_attribute_start(source, current, floor) if skip_attributes and tag != SAFETY else None
            if start is None:
                return current
            current = start
        current -= 1
    return -1


def comment_run_above(source: SourceText, line: int, floor: int, tag: str, options: PlacementOptions) -> list[int]:
    """The lines of the `//` comment run where a `// TAG:` for `line` would stand, top first (none: [])."""
    run: list[int] = []
    probe = _next_line_up(source, line, floor, tag, options)
    while probe >= 0 and _stripped(source, probe).startswith(b"//"):
        run.append(probe)
        probe = _next_line_up(source, probe, floor, tag, options)
    return run[::-1]


def scan_above(source: SourceText, line: int, floor: int, tag: str, options: PlacementOptions) -> Annotation | None:
    """The annotation that the lines above `line` (and after `floor`) give, clippy's way.

    For tags other than SAFETY, multi-line attributes are skipped like one-line ones.
    """

    def next_line_up(current: int) -> int:
        return _next_line_up(source, current, floor, tag, options)

    nearest = next_line_up(line)
    if nearest < 0:
        return None
    text = _stripped(source, nearest).decode("utf-8", "replace")

    if text.startswith("//"):  # a run of line comments
        run = [nearest]
        probe = next_line_up(nearest)
        while probe >= 0 and _stripped(source, probe).startswith(b"//"):
            run.append(probe)
            probe = next_line_up(probe)
        in_fence = False
        for index, number in enumerate(run):  # upward, as clippy reads them
            line_text = _stripped(source, number).decode("utf-8", "replace")
            if line_text.removeprefix("///").lstrip().startswith("```") and line_text.startswith("///"):
                in_fence = not in_fence
            if not in_fence and _contains_tag(line_text, tag) >= 0:
                below = [_comment_body(_stripped(source, n).decode("utf-8", "replace")) for n in reversed(run[:index])]
                continuation = []
                for follow in below:
                    if _NEXT_TAG.match(follow):
                        break
                    continuation.append(follow)
                return _annotation(source, number, line_text, tag, continuation)
        return None

    closes = text.find("*/")
    if closes >= 0 and text.find("/*") < 0 or (closes >= 0 and 0 <= closes < text.find("/*")):
        return _multi_line_block_comment(source, nearest, line, floor, tag)

    if text.startswith("/*") and (found := _block_comment_alone(source, nearest, line, tag)) is not None:
        return found if found is not False else None

    opener = _first_comment_opener(text)
    if opener < 0:
        return None
    comment = text[opener:]
    if _starts_with_tag(comment, tag):
        return _annotation(source, nearest, comment, tag, [])
    return None


def _block_comment_text(text: str) -> tuple[str, str] | None:
    """Split `text` (starting with `/*`) into its first block comment and the rest."""
    depth, index = 0, 0
    while index < len(text):
        pair = text[index : index + 2]
        if pair == "/*":
            depth, index = depth + 1, index + 2
        elif pair == "*/":
            depth, index = depth - 1, index + 2
            if depth == 0:
                return text[:index], text[index:]
        else:
            index += 1
    return None


def _block_comment_alone(source: SourceText, first: int, line: int, tag: str) -> Annotation | bool | None:
    """A block comment starting on `first`; decides only when nothing but whitespace follows it."""
    start = source.line_starts[first]
    segment = source.data[start : source.line_starts[line]].decode("utf-8", "replace").lstrip()
    split = _block_comment_text(segment)
    if split is None or split[1].strip():
        return None  # not alone: the trailing-comment rule decides
    comment = split[0]
    if _contains_tag(comment, tag) < 0:
        return False
    return _annotation(source, first, comment.replace("\n", " "), tag, [])


def _multi_line_block_comment(source: SourceText, last: int, line: int, floor: int, tag: str) -> Annotation | None:
    probe = last
    while probe > floor:
        if _stripped(source, probe).startswith(b"/*"):
            found = _block_comment_alone(source, probe, line, tag)
            return found if isinstance(found, Annotation) else None
        probe -= 1
    return None


# --- syntax: the window and the enclosing construct ---------------------------------------

_ITEM_CONTAINERS = frozenset({"source_file", "declaration_list"})
_NON_ITEMS = frozenset({"attribute_item", "inner_attribute_item", "line_comment", "block_comment"})


def _item_window(source: SourceText, unit: SyntaxUnit, item: Node) -> int:
    """Items are searched after the previous item's last line, or after their container opens."""
    sibling = next((node for node in unit.preceding_siblings(item) if node.type not in _NON_ITEMS), None)
    if sibling is not None:
        return source.line_of(unit.content_end(sibling) - 1)
    container = item.parent
    if container is not None and container.type == "declaration_list" and not unit.is_synthetic(container):
        return source.line_of(unit.start(container))
    if unit.parent is not None and unit.anchor is not None:
        return source.line_of(unit.shift + unit.user_start - 1)
    return -1


def window_floor(source: SourceText, unit: SyntaxUnit, site: Node) -> int:
    """The line after which comments for `site` are searched (-1: from the file's start)."""
    site_parent = unit.parent_of(site)
    if site.type in ("impl_item", "const_item", "static_item") and site_parent is not None and site_parent.type in _ITEM_CONTAINERS:
        return _item_window(source, unit, site)
    visited: list[int] = []  # ancestors whose answer is the same for every site below them
    floor = _walk_to_floor(source, unit, site, site_parent, visited)
    for node_id in visited:
        unit.floors[node_id] = floor
    return floor


def _walk_to_floor(source: SourceText, unit: SyntaxUnit, site: Node, start: Node | None, visited: list[int]) -> int:
    child, current = site, start
    first_unit = unit
    while True:
        while current is not None and not unit.is_synthetic(current):
            if unit is first_unit and (known := unit.floors.get(current.id)) is not None:
                return known
            if current.type == "function_item":
                if child != current.child_by_field_name("body"):
                    # A site in the signature (`fn f(x: &dyn T)`, a TRAIT_OBJECT or CAST tag)
                    # stands on the item's own lines: the comment above the fn is the
                    # one written for it, as for any item.
                    return _item_window(source, unit, current)
                return source.line_of(unit.start(current))
            parent = unit.parent_of(current)
            if current.type in ("const_item", "static_item") and parent is not None and parent.type in _ITEM_CONTAINERS:
                return _item_window(source, unit, current)
            if unit is first_unit:
                visited.append(current.id)
            child, current = current, parent
        if unit.parent is None or unit.anchor is None:
            return -1
        if unit.anchor.type == "macro_rule":
            # A macro_rules! arm is read against its own text, from its opening brace.
            return source.line_of(unit.shift + unit.user_start - 1)
        current = unit.parent.parent_of(unit.anchor)
        unit = unit.parent


# Parents through which a value flows as part of one expression.
_EXPRESSION_PARENTS = frozenset(
    {
        "call_expression",
        "arguments",
        "field_expression",
        "binary_expression",
        "unary_expression",
        "reference_expression",
        "type_cast_expression",
        "tuple_expression",
        "array_expression",
        "parenthesized_expression",
        "return_expression",
        "break_expression",
        "try_expression",
        "index_expression",
        "range_expression",
        "await_expression",
        "yield_expression",
        "let_condition",
        "let_chain",
        "macro_invocation",
        "generic_function",
    }
)
# Expressions a value passes only through one field of (the scrutinee, the condition).
_PASS_THROUGH_FIELD = {
    "match_expression": "value",
    "if_expression": "condition",
    "while_expression": "condition",
    "for_expression": "value",
    "closure_expression": "body",
}
_BRANCHING_TOPS = frozenset({"if_expression", "match_expression", "loop_expression", "while_expression", "for_expression"})
# Macros whose expansion is an `if` or a `match` at the top of the statement.
_BRANCHING_MACROS = frozenset(
    {"assert", "assert_eq", "assert_ne", "debug_assert", "debug_assert_eq", "debug_assert_ne", "matches"}
)


def _macro_name(unit: SyntaxUnit, invocation: Node) -> str:
    name = invocation.child_by_field_name("macro")
    return unit.text(name).split("::")[-1] if name is not None else ""


def _top_is_branching(unit: SyntaxUnit, expression: Node) -> bool:
    if expression.type in _BRANCHING_TOPS:
        return True
    return expression.type == "macro_invocation" and _macro_name(unit, expression) in _BRANCHING_MACROS


# Parents a branch's value reaches its statement through, for the lenient tags: an `if`'s
# branches, a `match`'s arms, and a closure's body.
_BRANCH_PARENTS = frozenset({"if_expression", "else_clause", "match_expression", "match_block", "match_arm", "closure_expression"})


def _single_expression(block: Node) -> Node | None:
    """The one expression a `{ expr }` block consists of (comments aside), else None."""
    children = [child for child in block.named_children if child.type not in ("line_comment", "block_comment")]
    if len(children) == 1 and children[0].type not in ("expression_statement", "let_declaration"):
        return children[0]
    return None


def _is_branch_body(unit: SyntaxUnit, block: Node, child: Node) -> bool:
    """`block` is `{ child }`, the whole body of an if/else branch, a match arm or a closure."""
    parent = unit.parent_of(block)
    return parent is not None and parent.type in _BRANCH_PARENTS and _single_expression(block) == child


def _branch_covered(top: Node, branches: bool) -> bool:
    """A statement whose top is an `if` or `match` covers its branches for the lenient tags."""
    return branches and top.type in ("if_expression", "match_expression")


def enclosing_construct(unit: SyntaxUnit, site: Node, branches: bool) -> tuple[SyntaxUnit, Node] | None:
    """The statement, `let`, assignment or const/static whose comment covers `site`.

    With `branches` (PROMOTE, CONTIGUOUS, CAST), the walk also climbs out of
    single-expression if/else branches, match arms and closure bodies, and a
    statement whose top is an `if` or `match` still covers its branches.
    """
    # Through an expression parent the walk goes on the same way whichever child it came from, so
    # the answer is remembered for each one passed: the sites of a long `a as f64 + b as f64 + ...`
    # chain share one walk instead of each climbing the whole chain (quadratic otherwise).
    passed: list[tuple[int, bool]] = []
    found = _walk_to_construct(unit, site, branches, passed)
    for key in passed:
        unit.constructs[key] = found
    return found


def _walk_to_construct(
    unit: SyntaxUnit, site: Node, branches: bool, passed: list[tuple[int, bool]]
) -> tuple[SyntaxUnit, Node] | None:
    first_unit = unit
    child, current = site, unit.parent_of(site)
    while True:
        while current is not None and not unit.is_synthetic(current):
            kind = current.type
            remembered = kind in _EXPRESSION_PARENTS or (branches and kind in _BRANCH_PARENTS)
            if unit is first_unit and remembered and (current.id, branches) in unit.constructs:
                return unit.constructs[(current.id, branches)]
            if branches and (kind in _BRANCH_PARENTS or (kind == "block" and _is_branch_body(unit, current, child))):
                if unit is first_unit and kind in _BRANCH_PARENTS:
                    # Climbed the same way from any child: an `else if` chain's n branches share one walk.
                    passed.append((current.id, branches))
                child, current = current, unit.parent_of(current)
                continue
            if kind == "let_declaration":
                return (unit, current) if child == current.child_by_field_name("value") else None
            if kind in ("assignment_expression", "compound_assignment_expr"):
                statement = unit.parent_of(current)
                if statement is not None and statement.type == "expression_statement":
                    return unit, statement
                return unit, current
            if kind in ("const_item", "static_item"):
                return unit, current
            if kind == "expression_statement":
                return None if _top_is_branching(unit, child) and not _branch_covered(child, branches) else (unit, current)
            if kind == "block":
                last = current.named_child(current.named_child_count - 1) if current.named_child_count else None
                if last is not None and last == child and child.type not in ("expression_statement", "let_declaration"):
                    return None if _top_is_branching(unit, child) and not _branch_covered(child, branches) else (unit, child)
                return None
            if kind in _PASS_THROUGH_FIELD:
                through = current.child_by_field_name(_PASS_THROUGH_FIELD[kind])
                if through is None or through != child or (kind == "closure_expression" and child.type == "block"):
                    return None
            elif kind not in _EXPRESSION_PARENTS:
                return None
            elif unit is first_unit:
                passed.append((current.id, branches))
            child, current = current, unit.parent_of(current)
        if unit.parent is None or unit.anchor is None or unit.anchor.type != "macro_invocation":
            return None
        child, current = unit.anchor, unit.parent.parent_of(unit.anchor)
        unit = unit.parent


def _comment_inside_braces(source: SourceText, unit: SyntaxUnit, site: Node) -> Annotation | None:
    """`unsafe { // SAFETY: ...`: a comment opening with SAFETY: as the first thing in the block."""
    if site.type != "unsafe_block":
        return None
    block = site.named_child(0) if site.named_child_count else None
    first = block.named_child(0) if block is not None and block.type == "block" and block.named_child_count else None
    if first is None or first.type not in ("line_comment", "block_comment"):
        return None
    text = unit.text(first)
    if not _starts_with_tag(text, SAFETY):
        return None
    line = source.line_of(unit.start(first))
    found = _annotation(source, line, text.splitlines()[0] if first.type == "line_comment" else text.replace("\n", " "), SAFETY, [])
    return Annotation(SAFETY, line, found.reason, unit.start(first), unit.end(first))


def _statement_in_block(unit: SyntaxUnit, site: Node) -> Node | None:
    """The statement directly inside a `{ }` block that holds `site`."""
    current: Node | None = site
    while current is not None and not unit.is_synthetic(current):
        parent = unit.parent_of(current)
        if parent is not None and parent.type == "block":
            return current
        current = parent
    return None


def _grouped_annotation(source: SourceText, unit: SyntaxUnit, site: Node, floor: int, tag: str, options: PlacementOptions) -> Annotation | None:
    """`group-annotations`: the tag comment above an earlier statement of the same run.

    A run is statements on consecutive lines (no blank line between them), as
    candle-mi writes one `// PROMOTE:` above four promotions in a row.
    """
    statement = _statement_in_block(unit, site)
    while statement is not None:
        previous = unit.previous_named_sibling(statement)
        if previous is None or previous.type in ("line_comment", "block_comment", "attribute_item"):
            return None  # a comment directly above was already read; a stray one ends the run
        if source.line_of(unit.end(previous) - 1) + 1 != source.line_of(unit.start(statement)):
            return None  # a blank line (or a statement on the same line) ends the run
        found = scan_above(source, source.line_of(unit.start(previous)), floor, tag, options)
        if found is not None:
            return found
        statement = previous
    return None


# --- the one entry point ---------------------------------------------------------------


def find_annotation(
    source: SourceText,
    unit: SyntaxUnit,
    site: Node,
    site_offset: int,
    tag: str,
    options: PlacementOptions,
) -> Annotation | None:
    """The annotation with `tag` that covers the site at `site_offset`, or None."""
    site_line = source.line_of(site_offset)
    floor = window_floor(source, unit, site)
    found = scan_above(source, site_line, floor, tag, options)
    if found is not None:
        return found
    if tag == SAFETY and (inside := _comment_inside_braces(source, unit, site)) is not None:
        return inside
    if options.accept_comment_above_statement and site.type not in ("impl_item",):
        construct = enclosing_construct(unit, site, branches=tag != SAFETY)
        if construct is not None:
            construct_unit, node = construct
            # Attributes above the construct are skipped as text by scan_above.
            first_line = source.line_of(construct_unit.start(node))
            if first_line < site_line and (found := scan_above(source, first_line, floor, tag, options)) is not None:
                return found
    if tag != SAFETY and options.group_annotations:
        return _grouped_annotation(source, unit, site, floor, tag, options)
    return None


def comment_where_tag_goes(
    source: SourceText, unit: SyntaxUnit, site: Node, site_offset: int, tag: str, options: PlacementOptions
) -> list[int]:
    """The lines of the `//` run standing where `find_annotation` would accept `// TAG:` for the site
    (above its line, else above its statement), whatever the run says; [] when there is none."""
    site_line = source.line_of(site_offset)
    floor = window_floor(source, unit, site)
    run = comment_run_above(source, site_line, floor, tag, options)
    if run or not options.accept_comment_above_statement:
        return run
    construct = enclosing_construct(unit, site, branches=tag != SAFETY)
    if construct is None:
        return []
    first_line = source.line_of(construct[0].start(construct[1]))
    return comment_run_above(source, first_line, floor, tag, options) if first_line < site_line else []


# --- where a fix inserts an annotation ----------------------------------------------------

_NO_INSERT_INSIDE = frozenset({"string_literal", "raw_string_literal", "block_comment", "line_comment", "char_literal"})


def _inside_literal_or_comment(unit: SyntaxUnit, offset: int) -> bool:
    """Whether file offset `offset` falls inside a string, char literal or comment."""
    local = offset - unit.shift
    if local < 0 or local > len(unit.data):
        return False
    # Every site of a long one-line expression asks about the same line start; the descent to its
    # first token is as deep as the expression is long.
    known: dict[int, bool] = unit.memo.setdefault((__name__, "inside literal or comment"), {})
    if local not in known:
        known[local] = _token_is_literal_or_comment(unit, local)
    return known[local]


def _token_is_literal_or_comment(unit: SyntaxUnit, local: int) -> bool:
    node: Node | None = unit.descendant_for_byte_range(local, local)
    for _ in range(3):  # the token, its literal or comment, and one wrapper are enough to look at
        if node is None:
            return False
        if node.type in _NO_INSERT_INSIDE and node.start_byte < local < node.end_byte:
            return True
        node = unit.parent_of(node)
    return False


def _line_indent(source: SourceText, line: int) -> str:
    return source.data[source.line_bounds(line)[0] : source.indentation_end(line)].decode("utf-8", "replace")


def _attributes_start(source: SourceText, unit: SyntaxUnit, node: Node) -> int | None:
    """The first line of the one-line attributes directly above `node`, if all of them are one-line."""
    first_line = None
    sibling = unit.previous_named_sibling(node)
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        if sibling.type != "attribute_item":
            break
        start, end = source.line_of(unit.start(sibling)), source.line_of(unit.end(sibling) - 1)
        if start != end or not _is_attribute_line(_stripped(source, start)):
            return None  # a multi-line attribute is not skipped: insert below it
        first_line = start
        sibling = unit.previous_named_sibling(sibling)
    return first_line


def insertion_point(
    source: SourceText, unit: SyntaxUnit, site: Node, site_offset: int, tag: str, options: PlacementOptions
) -> tuple[int, str] | None:
    """Where a new `// TAG:` comment line goes so that `find_annotation` accepts it.

    Above the statement that holds the site when the site reaches it (above
    its one-line attributes when those are transparent), else directly above
    the site's line; never inside the search window's first line, a string or
    a comment. Returns (file offset of the line start, that line's indentation).
    """
    site_line = source.line_of(site_offset)
    floor = window_floor(source, unit, site)
    candidates: list[int] = []
    if site.type in ("impl_item", "const_item", "static_item") or (
        site.type in ("function_item", "function_signature_item", "trait_item")
    ):
        own = source.line_of(unit.start(site))
        attributes = _attributes_start(source, unit, site) if options.accept_comment_above_attributes else None
        candidates = [attributes if attributes is not None else own]
    else:
        if options.accept_comment_above_statement and (
            construct := enclosing_construct(unit, site, branches=tag != SAFETY)
        ) is not None:
            construct_unit, node = construct
            line = source.line_of(construct_unit.start(node))
            attributes = (
                _attributes_start(source, construct_unit, node) if options.accept_comment_above_attributes else None
            )
            candidates.append(attributes if attributes is not None else line)
        candidates.append(site_line)
    for line in candidates:
        offset = source.line_starts[line]
        if line > floor and not _inside_literal_or_comment(unit, offset + len(_line_indent(source, line).encode())):
            return offset, _line_indent(source, line)
    return None
