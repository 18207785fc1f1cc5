"""What a written reason says: whether it still holds template placeholders, and whether an
untagged comment already gives the reason a tag asks for."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from safety_ls.core.context import FileContext
from safety_ls.core.fix_requests import TagInsertion
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.placement import comment_where_tag_goes
from safety_ls.core.tags import ALLOW_COMMENT, CAST, CONTIGUOUS, PROMOTE, TAG_IN_COMMENT

# `<reason>`, `<from>`, or a template's `<reason, e.g. softmax over F16 overflows>`; not a generic
# such as `Vec<u8>` (preceded by a word character) or a primitive type in angle brackets.
_ANGLE_PLACEHOLDER = re.compile(r"(?<![\w:&])<(?!(?:[iuf](?:8|16|32|64|128|size)|bool|char)>)[a-z][^<>\n]*>")


_WORD_PLACEHOLDER = re.compile(r"\b(?:TODO|FIXME|XXX|TBD)\b")


_BRACKET_PLACEHOLDER = re.compile(
    r"\[(?:\.\.\.|…|[A-Za-z][\w'-]*(?: [\w'-]+)+|(?i:description|reason|invariants?|justification|explanation))\](?!\()"
)


def placeholder_in(reason: str) -> str | None:
    for pattern in (_ANGLE_PLACEHOLDER, _WORD_PLACEHOLDER, _BRACKET_PLACEHOLDER):
        found = pattern.search(reason)
        if found:
            return found.group(0)
    if reason.strip() in ("...", "…", "?", "???"):
        return reason.strip()
    return None


# What a comment written for the site talks about when it gives the reason a tag asks for.
_SUBJECTS = {
    CONTIGUOUS: re.compile(r"contiguous|strid|layout|transpos|permut|\bcopy\b", re.I),
    PROMOTE: re.compile(r"\bf(32|64)\b|precision|promot|upcast|overflow|underflow|accumulat|dtype|numeric", re.I),
    CAST: re.compile(
        r"\bcast|conver(t|sion)|truncat|\bfits?\b|lossless|lossy|overflow|wrap|\b[iuf](8|16|32|64|128|size)\b", re.I
    ),
}
# A section title such as `// --- Verify logits ---` or `// ==== Decode ====`.
_SECTION_HEADER = re.compile(r"^\s*//+\s*(-{3,}|={3,}|#{2,}|\*{3,})")
# A commented-out line of code is not a reason.
_CODE_LINE = re.compile(r"[;{}]\s*$|^\s*(let|fn|use|pub|impl|mod)\b")


@dataclass(frozen=True)
class UntaggedComment:
    offset: int  # where the tag goes: the first comment line's text, after `// `
    text: str


def untagged_reason(ctx: FileContext, unit: SyntaxUnit, site: Node, tag: str, offset: int | None = None) -> UntaggedComment | None:
    """A plain comment where `// TAG:` would stand that already says why (without the tag), if any.

    A convention adopted late meets comments such as "Convert to contiguous as
    matmul doesn't support strided": adding the tag to it beats stacking a template
    under it.
    """
    subject = _SUBJECTS.get(tag)
    if subject is None:
        return None
    source = ctx.source
    start = unit.start(site) if offset is None else offset
    lines = comment_where_tag_goes(source, unit, site, start, tag, ctx.settings.placement)
    headers = [index for index, line in enumerate(lines) if _SECTION_HEADER.search(source.line_text(line))]
    if headers:
        lines = lines[headers[-1] + 1 :]  # `// --- Recurrence (F32) ---` titles a section, not this site
    bodies = [source.line_text(line).strip() for line in lines]
    if not bodies or any(body.startswith(("///", "//!")) for body in bodies):
        return None  # none, or doc comments: they document the item, not this site
    if any(ALLOW_COMMENT.search(body.encode()) for body in bodies):
        return None  # `// safety-ls: allow(missing-cast)` names the rule, it gives no reason
    texts = [body.lstrip("/").strip() for body in bodies]
    joined = " ".join(texts)
    if TAG_IN_COMMENT.search(" ".join(bodies).encode()) or any(_CODE_LINE.search(text) for text in texts if text):
        return None
    if not subject.search(joined):
        return None
    first_start = source.line_starts[lines[0]]
    raw = source.line_bytes(lines[0])
    opener = raw.index(b"//")
    body_start = opener + 2 + (len(raw[opener + 2 :]) - len(raw[opener + 2 :].lstrip(b" \t")))
    return UntaggedComment(first_start + body_start, joined)


def tag_fix(untagged: UntaggedComment, tag: str, head: str = "") -> TagInsertion:
    """A fix request that writes `TAG: ` (and `head`, e.g. CAST's `usize → u32, `) before the comment's text."""
    return TagInsertion(untagged.offset, f"{tag}: {head}", f"Add the `{tag}:` tag to the comment above")


def untagged_message(site: str, tag: str) -> str:
    return f"{site}: the comment above gives a reason but no `{tag}:` tag (untagged annotation); add the tag to it"
