"""What a rule asks a fix to do, as typed values that travel with each finding.

A rule states the request (where, which template, what to fill it with); the
fixes package renders and applies it. Requests hold file byte offsets, so a
finding moved by an edit moves its request with it (`shifted`): hover and code
actions read the stored request instead of analysing the file again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Union


@dataclass(frozen=True)
class CommentInsertion:
    """A `// TAG:` comment rendered from `template`, inserted as whole lines at `offset` (a line start)."""

    offset: int
    indent: str
    tag: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict, hash=False)
    # Set when the insertion completes an existing comment rather than adding one.
    title: str | None = None

    def shifted(self, delta: int) -> "CommentInsertion":
        # Written out rather than `dataclasses.replace` (several times slower): the language
        # server shifts every finding below an edit on each keystroke.
        return CommentInsertion(self.offset + delta, self.indent, self.tag, self.template, self.context, self.title)


@dataclass(frozen=True)
class DocLayout:
    """How the doc comment that lines are added to is written, so that rustdoc reads the added
    lines as markdown of their own rather than as part of the user's."""

    # The fence of a code block the docs leave open where the lines go (```` ``` ````, `~~~`): it is
    # closed first, or the added heading would be code.
    open_fence: str | None = None
    # The spaces after `///` that every line of the docs has: rustdoc removes that much from each
    # line, so added lines indented less would make the docs' own text (and headings) code blocks.
    text_indent: int = 1


@dataclass(frozen=True)
class DocInsertion:
    """A `# Safety` section added to an item's doc comment: appended to its docs, or starting them."""

    offset: int
    indent: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict, hash=False)
    # True when the item already has docs: a blank `///` line separates the new section.
    after_docs: bool = False
    layout: DocLayout = DocLayout()

    def shifted(self, delta: int) -> "DocInsertion":
        return DocInsertion(self.offset + delta, self.indent, self.template, self.context, self.after_docs, self.layout)


@dataclass(frozen=True)
class DocSectionCompletion:
    """The `## Section`s a `# Safety` section lacks, appended after its last written line."""

    offset: int
    indent: str
    missing: tuple[str, ...]
    template: str = "safety_doc_sections.j2"
    layout: DocLayout = DocLayout()

    @property
    def context(self) -> Mapping[str, Any]:
        return {"missing": list(self.missing)}

    def shifted(self, delta: int) -> "DocSectionCompletion":
        return DocSectionCompletion(self.offset + delta, self.indent, self.missing, self.template, self.layout)


@dataclass(frozen=True)
class WrapperTarget:
    """The safe allocation function a rewritten call goes through, and how the crate names its types."""

    name: str  # alloc_device_buffer, alloc_stream_buffer
    receiver: str  # the type the wrapper borrows, as a path the crate root can use
    driver: str  # cudarc's driver module as the crate reaches it
    # candle-core's name when the receiver is candle's `CudaDevice` (its `Result` and `Error`).
    candle: str | None = None
    # The `#[cfg(...)]` predicates the CUDA dependency needs, e.g. `feature = "cuda"`.
    cfg: tuple[str, ...] = ()


@dataclass(frozen=True)
class AllocationRewrite:
    """Replace bytes `start..end` (an unsafe allocation) with `replacement`, a call to `wrapper`.

    No wrapper: the call is safe as it stands (`alloc_zeros`) and only loses its unsafe block.
    """

    start: int
    end: int
    replacement: str
    wrapper: WrapperTarget | None
    # In a macro_rules! body: the call names the wrapper by its full path from `$crate`.
    in_macro: bool = False

    def shifted(self, delta: int) -> "AllocationRewrite":
        return replace(self, start=self.start + delta, end=self.end + delta)


@dataclass(frozen=True)
class TagInsertion:
    """`TAG: ` (and a head, such as CAST's `usize → u32, `) written into an existing comment that
    already gives the reason (an untagged annotation), at `offset`, its text's first byte."""

    offset: int
    text: str
    title: str

    def shifted(self, delta: int) -> "TagInsertion":
        return TagInsertion(self.offset + delta, self.text, self.title)


FixRequest = Union[CommentInsertion, DocInsertion, DocSectionCompletion, AllocationRewrite, TagInsertion]
# Requests that render a template as comment lines (everything but the allocation rewrite).
TemplateInsertion = Union[CommentInsertion, DocInsertion, DocSectionCompletion]
