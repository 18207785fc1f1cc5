"""Doc comments of items and their `# Safety` sections, read as rustdoc reads them."""

from __future__ import annotations

import re

from tree_sitter import Node

from safety_ls.core.parsing import SyntaxUnit

_DOC_ATTRIBUTE = re.compile(r'^#\[\s*doc\s*=\s*"((?:[^"\\]|\\.)*)"\s*\]$', re.S)


_HEADING = re.compile(r"^\s*#{1,6}(?:\s+(.*?))?\s*$")


# A code fence as CommonMark reads one: three or more backticks (no backtick in the info string
# after them) or tildes. The indentation is not limited to three spaces, so that fences in list
# items count too.
_FENCE = re.compile(r"^\s*(?P<fence>`{3,}(?=[^`]*$)|~{3,})(?P<info>.*)$")

# The heading texts clippy 1.95's missing_safety_doc accepts, exactly (case and all).
SAFETY_HEADINGS = ("Safety", "SAFETY", "Implementation safety", "Implementation Safety")


def located_doc_lines(unit: SyntaxUnit, item: Node) -> list[tuple[str, int]]:
    """The item's outer doc lines (`///`, `/** */`, `#[doc = ".."]`) in order, with the file
    offset each one ends at (a block or attribute's lines all end where it ends)."""
    collected: list[list[tuple[str, int]]] = []
    for sibling in unit.preceding_siblings(item):
        if sibling.type not in ("attribute_item", "line_comment", "block_comment"):
            break
        text = unit.text(sibling)
        end = unit.end(sibling)
        if sibling.type == "line_comment" and text.startswith("///") and not text.startswith("////"):
            collected.append([(text[3:].rstrip("\r\n"), end)])
        elif sibling.type == "block_comment" and text.startswith("/**") and not text.startswith("/***"):
            body = text[3:-2]
            collected.append([(line.strip().lstrip("*"), end) for line in body.splitlines()])
        elif sibling.type == "attribute_item":
            match = _DOC_ATTRIBUTE.match(text)
            if match:
                decoded = match.group(1).encode().decode("unicode_escape", "replace")
                collected.append([(line, end) for line in decoded.splitlines()])
    lines: list[tuple[str, int]] = []
    for chunk in reversed(collected):
        lines.extend(chunk)
    return lines


def doc_lines(unit: SyntaxUnit, item: Node) -> list[str]:
    """The item's outer doc comment lines, in order."""
    return [text for text, _ in located_doc_lines(unit, item)]


def shared_indent(lines: list[str]) -> int:
    """The indentation all non-blank lines share (rustdoc removes it before reading the markdown)."""
    return min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)


def _unindent(lines: list[str]) -> list[str]:
    """Remove the indentation all non-blank lines share, as rustdoc does."""
    common = shared_indent(lines)
    return [line[common:] for line in lines]


def _in_code_fences(lines: list[str]) -> tuple[list[bool], str | None]:
    """For each line, whether it belongs to a fenced code block (its fences included); and the
    opening fence still open after the last line (rustdoc ends such a block with the docs)."""
    inside: list[bool] = []
    opening: str | None = None
    for line in lines:
        match = _FENCE.match(line)
        if opening is None:
            opening = match.group("fence") if match else None
        elif (
            match
            and match.group("fence")[0] == opening[0]
            and len(match.group("fence")) >= len(opening)
            and not match.group("info").strip()
        ):
            # A closing fence: the opening's character, at least as long, no info string.
            inside.append(True)
            opening = None
            continue
        inside.append(opening is not None)
    return inside, opening


def open_code_fence(lines: list[str]) -> str | None:
    """The fence (```` ``` ````, `~~~`, or longer) of a code block the doc lines leave open, or None."""
    return _in_code_fences(_unindent(lines))[1]


_CONTAINER_PREFIX = re.compile(r"^(?:>\s?|[-*+]\s+|\d+[.)]\s+)+")


_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")


def _heading_text(text: str) -> str:
    """A heading's text as rendered: closing #s, emphasis and spaces removed."""
    text = re.sub(r"\s+#+\s*$", "", text.strip()).strip()
    emphasis = re.fullmatch(r"(\*{1,3}|_{1,3})(.+?)\1", text)
    return emphasis.group(2).strip() if emphasis else text


def headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, text) of markdown headings outside code fences."""
    found = []
    lines = _unindent(lines)
    in_code = _in_code_fences(lines)[0]
    for index, line in enumerate(lines):
        if in_code[index]:
            continue
        body = _CONTAINER_PREFIX.sub("", line.strip()) if line.strip()[:1] in (">", "-", "*", "+") or line.strip()[:1].isdigit() else line
        match = _HEADING.match(body)
        if match and len(body) - len(body.lstrip()) < 4:
            level = len(body.lstrip()) - len(body.lstrip().lstrip("#"))
            found.append((index, level, _heading_text(match.group(1))))
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        underline = _SETEXT_UNDERLINE.match(following)
        if underline and line.strip() and not _FENCE.match(line):
            found.append((index, 1 if underline.group(1)[0] == "=" else 2, _heading_text(line)))
    return found


def safety_section_bounds(lines: list[str]) -> tuple[int, int] | None:
    """Line indexes of a `# Safety` heading (or another of SAFETY_HEADINGS) and of the end of its section
    (the next heading of its level or higher, or the end of the docs)."""
    found = headings(lines)
    for position, (index, level, text) in enumerate(found):
        if text in SAFETY_HEADINGS:
            end = next((later for later, later_level, _ in found[position + 1 :] if later_level <= level), len(lines))
            return index, end
    return None


def safety_section(lines: list[str]) -> list[str] | None:
    """The lines under a `# Safety` heading, up to the next heading of its level or higher."""
    bounds = safety_section_bounds(lines)
    return None if bounds is None else lines[bounds[0] + 1 : bounds[1]]
