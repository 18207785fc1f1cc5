"""An open document in the language server: text, tree, line index, and its findings.

Edits arrive as LSP ranges; each is applied to the bytes, to the tree
(`Tree.edit`, then an incremental re-parse with the old tree) and to the
stored findings (moved, or dropped for re-analysis: stored_findings.py). Analysis
then re-runs only on the function items the edits touched, or on the whole file
when an edit reaches outside function bodies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node, Point, Tree

from safety_ls.core.crate import CrateIndex
from safety_ls.core.findings import Diagnostic, Severity
from safety_ls.core.parsing import parse
from safety_ls.core.settings import Settings
from safety_ls.core.source import Encoding, Position, SourceText
from safety_ls.engine.analyze import analyze
from safety_ls.lsp.stored_findings import LspRange, Published, StoredFindings, lsp_span

# Items whose body an edit may change without affecting anything outside them.
_CONTAINERS = frozenset({"source_file", "declaration_list"})


@dataclass
class Document:
    uri: str
    path: Path | None
    version: int
    source: SourceText
    tree: Tree
    findings: StoredFindings = field(default_factory=StoredFindings, repr=False)
    # Byte ranges (current offsets) edited since the last analysis; None: analyse everything.
    dirty: list[tuple[int, int]] | None = None
    analysed_version: int | None = None
    tree_is_exact: bool = True  # see `exact_tree`
    error: str | None = None  # text that cannot be analysed (not UTF-8 after an edit, too large)

    # Text over this many bytes is kept in sync but neither parsed nor analysed (max-file-size):
    # a 20 MB buffer would otherwise cost seconds per keystroke.
    size_limit: int | None = None

    @classmethod
    def open(cls, uri: str, path: Path | None, version: int, text: str, size_limit: int | None = None) -> "Document":
        source = SourceText.from_text(text)
        document = cls(uri, path, version, source, parse(b""), size_limit=size_limit)
        if not document.too_large:
            document.tree = parse(source.data)
        return document

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """The findings at the current text's offsets."""
        return self.findings.items()

    @property
    def too_large(self) -> bool:
        return self.size_limit is not None and len(self.source.data) > self.size_limit

    # --- edits ---------------------------------------------------------------------------

    def apply_change(self, start: Position | None, end: Position | None, text: str, encoding: Encoding) -> None:
        """One `TextDocumentContentChangeEvent`: a range replacement, or the whole text when no range."""
        new_text = text.encode("utf-8", errors="replace")  # see SourceText.from_text
        old = self.source
        if start is None or end is None:
            self.source = SourceText(new_text)
        else:
            start_byte = old.lsp_offset(start, encoding)
            old_end_byte = max(old.lsp_offset(end, encoding), start_byte)
            self.source = old.replaced(start_byte, old_end_byte, new_text)
        if start is None or end is None or self.too_large or (self.size_limit is not None and len(old.data) > self.size_limit):
            # The whole text, or text over the size limit on either side of the edit: start afresh
            # (an empty tree while it is too large).
            self.findings.replace([])
            self.tree = parse(b"" if self.too_large else self.source.data)
            self.tree_is_exact = True
            self.dirty = None
            return
        new_end_byte = start_byte + len(new_text)
        # Lines as the client counts them: these move the LSP ranges of the findings below the edit.
        old_end_line = old.lsp_line_of(old_end_byte)
        line_delta = self.source.lsp_line_of(new_end_byte) - old_end_line
        self.tree.edit(
            start_byte=start_byte,
            old_end_byte=old_end_byte,
            new_end_byte=new_end_byte,
            start_point=_point(old, start_byte),
            old_end_point=_point(old, old_end_byte),
            new_end_point=_point(self.source, new_end_byte),
        )
        edited = self.tree
        self.tree = parse(self.source.data, edited)
        # tree-sitter's error recovery after an incremental re-parse (reused subtrees) can differ
        # from a fresh parse of the same text, which is what `safety-ls check` sees. While the text
        # has a syntax error the tree is exact only after `exact_tree()` parses it afresh.
        self.tree_is_exact = not self.tree.root_node.has_error
        self._shift(start_byte, old_end_byte, new_end_byte, old_end_line, line_delta)
        self._mark_changed(edited, self.tree)

    def _mark_changed(self, before: Tree, after: Tree) -> None:
        """Syntax that changed beyond the typed text (an opened `/*` or string) is dirty too."""
        if self.dirty is not None:
            self.dirty.extend((change.start_byte, change.end_byte) for change in before.changed_ranges(after))

    def exact_tree(self) -> None:
        """Replace an incrementally re-parsed tree that has errors with a fresh parse."""
        if not self.tree_is_exact:
            incremental, self.tree = self.tree, parse(self.source.data)
            self._mark_changed(incremental, self.tree)
            self.tree_is_exact = True

    def _shift(self, start: int, old_end: int, new_end: int, old_end_line: int, line_delta: int) -> None:
        """Keep stored findings, their LSP ranges and dirty ranges at the right place after an edit."""
        delta = new_end - old_end
        self.findings.shift(start, old_end, new_end, old_end_line, line_delta)
        if self.dirty is not None:
            moved = [
                (a + delta, b + delta) if a >= old_end else (a, b if b <= start else max(b + delta, new_end))
                for a, b in self.dirty
            ]
            self.dirty = moved + [(start, new_end)]

    # --- analysis ------------------------------------------------------------------------

    def analyse(self, settings: Settings, crate: CrateIndex | None, file: Path | None, exact: bool = True) -> None:
        """Bring `diagnostics` up to date with the text, re-analysing as little as possible.

        With `exact=False` (a keystroke) a tree re-parsed incrementally is used even while
        the text has a syntax error; the server then reconciles with `exact=True` when
        typing pauses.
        """
        display = str(self.path) if self.path is not None else self.uri
        if self.size_limit != settings.max_file_size:  # the setting changed since the document opened
            was_too_large, self.size_limit = self.too_large, settings.max_file_size
            if was_too_large and not self.too_large:
                self.tree, self.tree_is_exact, self.dirty = parse(self.source.data), True, None
        if self.too_large:
            self.findings.replace([_too_large(display, self.source, settings)])
            self.dirty, self.analysed_version = [], self.version
            return
        if exact:
            self.exact_tree()
        region = self._region()
        if region == (0, 0):  # nothing changed since the last analysis
            self.analysed_version = self.version
            return
        if region is None:
            self.dirty = []
            result = analyze(self.source, display, settings, crate=crate, file=file, tree=self.tree)
            self.findings.replace(result.diagnostics)
        else:
            result = analyze(self.source, display, settings, crate=crate, file=file, tree=self.tree, region=region)
            self.findings.replace_region(region, result.diagnostics)
        self.dirty = []
        self.analysed_version = self.version

    def _region(self) -> tuple[int, int] | None:
        """The one function item holding every edit since the last analysis, or None (analyse all)."""
        if self.dirty is None or self.analysed_version is None:
            return None
        if not self.dirty:
            return (0, 0)
        start = min(a for a, _ in self.dirty)
        end = max(b for _, b in self.dirty)
        item = _function_item_around(self.tree.root_node, start, max(end, start))
        return None if item is None else (item.start_byte, item.end_byte)

    def lsp_range(self, diagnostic: Diagnostic, encoding: Encoding) -> LspRange:
        """A finding's range in the client's position encoding."""
        return lsp_span(self.source, diagnostic.start, diagnostic.end, encoding)

    def published(self, encoding: Encoding) -> list[Published]:
        """The stored findings as each keystroke publishes them (ranges converted once, then carried)."""
        return self.findings.published(self.source, encoding)


# Not a rule: the `code` of the one diagnostic a document over `max-file-size` gets instead of analysis.
TOO_LARGE = "max-file-size"


def _too_large(display: str, source: SourceText, settings: Settings) -> Diagnostic:
    size = len(source.data)
    message = (
        f"not analysed: {size / 1_048_576:.1f} MiB, over the {settings.max_file_size / 1_048_576:.1f} MiB limit "
        "(raise `max-file-size` in safety-ls.toml to analyse it)"
    )
    return Diagnostic(display, TOO_LARGE, Severity.WARNING, message, 1, 1, 1, 1, False, 0, 0)


def _point(source: SourceText, offset: int) -> Point:
    line = source.line_of(offset)
    return Point(line, offset - source.line_starts[line] if line > 0 or not source.has_bom else offset)


def _function_item_around(root: Node, start: int, end: int) -> Node | None:
    """The outermost function item containing [start, end] that is an item (not in another body)."""
    node: Node | None = root.descendant_for_byte_range(start, end)
    found = None
    while node is not None:
        if node.type == "function_item" and node.start_byte <= start and end <= node.end_byte:
            found = node
        node = node.parent
    if found is None:
        return None
    # Only items directly in a module, impl or trait: their analysis stands alone.
    parent = found.parent
    if parent is None or parent.type not in _CONTAINERS:
        return None
    body = found.child_by_field_name("body")
    # An edit reaching the signature may change the item's docs or visibility checks: analyse all.
    if body is None or start < body.start_byte:
        return None
    return found
