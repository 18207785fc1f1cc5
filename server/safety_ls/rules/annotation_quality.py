"""Annotations that exist but say nothing yet: template placeholders and generic phrases."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding
from safety_ls.core.tags import NEXT_TAG, TAG_IN_COMMENT
from safety_ls.core.triggers import line_items
from safety_ls.facts.annotations import placeholder_in
from safety_ls.rules import Rule

PLACEHOLDER_ANNOTATION = "placeholder-annotation"

_SAFETY_HEADING = re.compile(rb"///[ \t]*#+[ \t]*Safety[ \t]*\r?$", re.M | re.I)


VAGUE_PHRASES = frozenset(
    {
        "",
        "safe",
        "this is safe",
        "it is safe",
        "its safe",
        "should be safe",
        "obviously safe",
        "trivially safe",
        "always safe",
        "safe because i tested it",
        "tested",
        "trust me",
        "it works",
        "works",
        "fine",
        "its fine",
        "ok",
        "needed",
        "required",
        "necessary",
        "ffi",
        "unsafe",
        "see above",
        "see below",
        "same as above",
        "numerical stability",
        "for numerical stability",
        "precision",
        "for precision",
        "better precision",
        "accuracy",
        "performance",
        "for performance",
        "speed",
        "layout",
        "for matmul",
        "needed for matmul",
        "conversion",
        "type conversion",
        "cast",
        "intentional",
    }
)


_UNESCAPED_QUOTE = re.compile(rb'(?<![\\\'])"')


@dataclass(frozen=True)
class WrittenAnnotation:
    tag: str
    reason: str
    start: int  # the comment opener
    end: int  # end of the tagged line


def _in_code(line: bytes, position: int) -> bool:
    """Whether `position` in `line` sits inside a string literal rather than a comment."""
    return len(_UNESCAPED_QUOTE.findall(line[:position])) % 2 == 1


def written_annotations(ctx: FileContext) -> Iterator[WrittenAnnotation]:
    source = ctx.source
    data = source.data
    for match in TAG_IN_COMMENT.finditer(data, *ctx.text_bounds()):
        line = source.line_of(match.start())
        line_start, line_end = source.line_bounds(line)
        if _in_code(data[line_start:line_end], match.start() - line_start):
            continue
        tag = match.group("tag").decode().upper()
        is_block = match.group("opener").startswith(b"/*")
        tail = data[match.end() : line_end].decode("utf-8", "replace")
        parts = [tail.split("*/")[0] if is_block else tail]
        if not is_block or "*/" not in tail:
            parts.extend(_continuation(ctx, line, is_block))
        reason = " ".join(part.strip(" *\t") for part in parts).strip()
        yield WrittenAnnotation(tag, reason, match.start(), line_end)


def _continuation(ctx: FileContext, line: int, is_block: bool) -> Iterator[str]:
    source = ctx.source
    for following in range(line + 1, min(line + 40, source.line_count)):
        text = source.line_text(following).strip()
        if is_block:
            yield text.split("*/")[0]
            if "*/" in text:
                return
            continue
        if not text.startswith("//"):
            return
        body = text.lstrip("/!").strip()
        if NEXT_TAG.match(body):
            return
        if body:  # a blank `//` separates paragraphs of one comment (candle's safetensors.rs)
            yield body


def _safety_doc_sections(ctx: FileContext) -> Iterator[WrittenAnnotation]:
    source = ctx.source
    bounds = ctx.text_bounds()
    for _, match in line_items(source.data, _SAFETY_HEADING, pos=bounds[0], endpos=bounds[1]):
        line = source.line_of(match.start())
        body = []
        for following in range(line + 1, source.line_count):
            text = source.line_text(following).strip()
            if not text.startswith("///"):
                break
            body.append(text[3:].strip())
        start, end = source.line_bounds(line)
        offset = source.data.index(b"///", start)
        yield WrittenAnnotation("# Safety", " ".join(body), offset, end)


def _placeholders(ctx: FileContext) -> Iterator[Finding]:
    for annotation in [*written_annotations(ctx), *_safety_doc_sections(ctx)]:
        placeholder = placeholder_in(annotation.reason)
        if placeholder is not None:
            yield Finding(
                "placeholder-annotation",
                annotation.start,
                annotation.end,
                f"{annotation.tag} annotation still holds the placeholder `{placeholder}`: write the actual reason",
                {"tag": annotation.tag, "placeholder": placeholder},
            )


def _normalized(reason: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", "", reason.lower()).split())


def _vague(ctx: FileContext) -> Iterator[Finding]:
    extra = {_normalized(phrase) for phrase in ctx.settings.vague_phrases}
    for annotation in written_annotations(ctx):
        if placeholder_in(annotation.reason) is not None:
            continue  # `[...]`, `...`: an unfilled template, which placeholder-annotation reports
        normalized = _normalized(annotation.reason)
        if normalized in VAGUE_PHRASES or normalized in extra:
            said = f"only says “{annotation.reason}”" if annotation.reason else "gives no reason"
            yield Finding(
                "vague-annotation",
                annotation.start,
                annotation.end,
                f"{annotation.tag} annotation {said}: name what makes this site correct",
                {"tag": annotation.tag},
            )


RULES = [
    Rule(
        id=PLACEHOLDER_ANNOTATION,
        summary="annotation still holding template placeholders (`<reason>`, `TODO`, `[...]`)",
        explanation=(
            "Fixes insert templates with placeholders such as `<reason>` or `[Invariant 1]`. The "
            "annotation counts as written only when a person has replaced them with the real reason."
        ),
        check=_placeholders,
        example='// PROMOTE: <reason, e.g. softmax over F16 overflows>\nlet x = x.to_dtype(DType::F32)?;',
    ),
    Rule(
        id="vague-annotation",
        summary="annotation whose reason is only a generic phrase",
        explanation=(
            "A reason such as “safe”, “trust me” or “numerical stability” could be pasted anywhere. "
            "Say what is specific to this site: which invariant holds, which operation overflows in "
            "F16, which stride the copy removes."
        ),
        check=_vague,
        example='// SAFETY: this is safe\nunsafe { buffer.set_len(n) }',
    ),
]
