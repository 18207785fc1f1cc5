"""One file's unsafe inventory for `safety-ls audit`, read from the engine's analysis of it.

`audit_file` is a pure function of a `FileContext` (the parse, macro
fragments and sites the rules use); it finds the same sites the rules check,
through the same functions, and asks the same placement question of each.
An annotation still holding a template placeholder does not count as written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node, Tree

from safety_ls.core.context import FileContext
from safety_ls.core.crate import crate_index
from safety_ls.core.crate_dirs import crate_dir_of
from safety_ls.core.fingerprints import Fingerprint, LineText, fingerprint_sites
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.placement import Annotation
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceError, SourceText
from safety_ls.core.tags import CAST, CONTIGUOUS, COVERAGE_TAGS, PROMOTE, SAFETY
from safety_ls.engine import analyze as engine
from safety_ls.facts.annotations import placeholder_in
from safety_ls.facts.casts import numeric_casts
from safety_ls.facts.categories import Category
from safety_ls.facts.cuda_kernels import analysed_file, index_for, where
from safety_ls.facts.dtype import layout_copies, promotions
from safety_ls.facts.launch_checks import check_launch
from safety_ls.facts.launches import find_launches
from safety_ls.facts.rust_externs import extern_c_declarations
from safety_ls.facts.safety_docs import doc_lines, safety_section
from safety_ls.facts.unsafe_sites import code_category, impl_trait_name
from safety_ls.rules import ALL_RULES
from safety_ls.rules.casts import MISSING_CAST
from safety_ls.rules.dtype import MISSING_CONTIGUOUS, MISSING_PROMOTE
from safety_ls.rules.safety_doc import MISSING_SAFETY_DOC
from safety_ls.rules.unsafe_code import (
    UNDOCUMENTED_UNSAFE_BLOCK,
    UNDOCUMENTED_UNSAFE_IMPL,
)

log = logging.getLogger(__name__)

# The rules whose sites the audit counts: their site kinds and text triggers say what is parsed.
AUDIT_RULES = (
    UNDOCUMENTED_UNSAFE_BLOCK,
    UNDOCUMENTED_UNSAFE_IMPL,
    MISSING_SAFETY_DOC,
    MISSING_PROMOTE,
    MISSING_CONTIGUOUS,
    MISSING_CAST,
)
ANNOTATION_TAGS = COVERAGE_TAGS
KINDS = ("block", "fn", "impl")  # unsafe blocks, unsafe fns, unsafe impls

WRITTEN, PLACEHOLDER, MISSING = "written", "placeholder", "missing"


@dataclass(frozen=True)
class UnsafeSite:
    kind: str  # one of KINDS
    category: Category
    line: int  # 1-based
    column: int  # 1-based, in characters
    annotation: str  # WRITTEN, PLACEHOLDER or MISSING: its SAFETY comment (a `# Safety` doc for fns)
    text: str  # the site's line, whitespace-normalized
    fingerprint: Fingerprint

    @property
    def documented(self) -> bool:
        return self.annotation == WRITTEN


@dataclass(frozen=True)
class Coverage:
    sites: int = 0
    annotated: int = 0


@dataclass(frozen=True)
class LaunchRecord:
    line: int
    kernel: str | None
    form: str
    arguments: tuple[str, ...] | None
    definition: str | None  # `file:line` of the kernel (the first, for a family) or the launcher's C definition
    checked: bool


@dataclass(frozen=True)
class FfiRecord:
    line: int
    name: str
    definition: str | None  # `file:line` of the same-named C/C++/CUDA definition
    checked: bool  # compared with every definition (a type unknown on one side is never a mismatch)


@dataclass
class FileAudit:
    path: str
    lines: int = 0
    unsafe_lines: int = 0  # lines inside an unsafe block, unsafe fn or unsafe impl
    sites: list[UnsafeSite] = field(default_factory=list)
    coverage: dict[str, Coverage] = field(default_factory=dict)  # by tag (ANNOTATION_TAGS)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    launches: list[LaunchRecord] = field(default_factory=list)
    ffi: list[FfiRecord] = field(default_factory=list)


def _state(reason: str | None) -> str:
    if reason is None:
        return MISSING
    return PLACEHOLDER if placeholder_in(reason) is not None else WRITTEN


def _comment_state(annotation: Annotation | None) -> str:
    return _state(None if annotation is None else annotation.reason)


def _doc_state(unit: SyntaxUnit, item: Node) -> str:
    section = safety_section(doc_lines(unit, item))
    return _state(None if section is None else " ".join(section))


def _has_target_feature(unit: SyntaxUnit, item: Node) -> bool:
    """Whether the fn carries `#[target_feature(..)]` (its attributes are the siblings before it)."""
    sibling = unit.previous_named_sibling(item)
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        if sibling.type == "attribute_item" and "target_feature" in unit.text(sibling):
            return True
        sibling = unit.previous_named_sibling(sibling)
    return False


def _fn_category(unit: SyntaxUnit, item: Node) -> Category:
    if _has_target_feature(unit, item):
        return Category.SIMD
    body = item.child_by_field_name("body")
    return code_category(unit, body) if body is not None else Category.OTHER


def _unsafe_nodes(ctx: FileContext) -> list[tuple[str, SyntaxUnit, Node, Category, str]]:
    """(kind, unit, node, category, annotation state) of every unsafe block, fn and impl."""
    found = []
    for unit, block in ctx.sites("unsafe_block"):
        found.append(("block", unit, block, code_category(unit, block), _comment_state(ctx.annotation(unit, block, SAFETY))))
    for unit, item in ctx.sites("unsafe_fn"):
        found.append(("fn", unit, item, _fn_category(unit, item), _doc_state(unit, item)))
    for unit, impl in ctx.sites("unsafe_impl"):
        trait, _ = impl_trait_name(unit, impl)
        category = Category.SEND_SYNC if trait in ("Send", "Sync") else Category.OTHER
        found.append(("impl", unit, impl, category, _comment_state(ctx.annotation(unit, impl, SAFETY))))
    return found


def _covered_lines(spans: list[tuple[int, int]]) -> int:
    """How many lines the (first, last) line spans cover together (nested ones count once)."""
    total, reached = 0, -1
    for first, last in sorted(spans):
        if last > reached:
            total += last - max(first, reached + 1) + 1
            reached = last
    return total


def _coverage(ctx: FileContext) -> dict[str, Coverage]:
    states = {
        PROMOTE: [_comment_state(ctx.annotation(u, call, PROMOTE, u.start(name))) for u, call, name, _ in promotions(ctx)],
        CONTIGUOUS: [_comment_state(ctx.annotation(u, call, CONTIGUOUS, u.start(name))) for u, call, name in layout_copies(ctx)],
        CAST: [_comment_state(ctx.annotation(u, cast, CAST)) for u, cast, _ in numeric_casts(ctx)],
    }
    return {tag: Coverage(len(found), found.count(WRITTEN)) for tag, found in states.items()}


def audit_file(ctx: FileContext) -> FileAudit:
    """The unsafe sites, unsafe line count and annotation coverage of one analysed file."""
    source = ctx.source
    audit = FileAudit(ctx.path, lines=_line_count(source))
    located = []
    seen: set[tuple[str, int]] = set()
    spans = []
    for kind, unit, node, category, state in _unsafe_nodes(ctx):
        start = unit.start(node)
        if (kind, start) in seen:
            continue
        seen.add((kind, start))
        spans.append((source.line_of(start), source.line_of(max(unit.end(node) - 1, start))))
        located.append((source.position(start), kind, category, state))
    located.sort(key=lambda item: (item[0], item[1]))
    prints = fingerprint_sites(ctx.path, [(kind, position.line) for position, kind, _, _ in located], _line_text(source))
    for (position, kind, category, state), fingerprint in zip(located, prints):
        text = " ".join(source.line_text(position.line).split())
        audit.sites.append(UnsafeSite(kind, category, position.line + 1, position.column + 1, state, text, fingerprint))
    audit.unsafe_lines = _covered_lines(spans)
    audit.coverage = _coverage(ctx)
    audit.launches, audit.ffi = _launches_and_ffi(ctx)
    return audit


def _launches_and_ffi(ctx: FileContext) -> tuple[list[LaunchRecord], list[FfiRecord]]:
    """What the kernel-launch and FFI checks compared in this file, for the report's tables."""
    sites = find_launches(ctx.unit, ctx.settings.launch_patterns, ctx.region)
    declarations = [d for d in extern_c_declarations(ctx.unit) if ctx.in_region(d.start)]
    if not sites and not declarations:
        return [], []
    index, root = index_for(ctx)
    launches = []
    for site in sites:
        check = check_launch(site, index, path=analysed_file(ctx))
        definition = where(check.definitions[0], root) if check.definitions else None
        line = ctx.source.line_of(site.start) + 1
        launches.append(LaunchRecord(line, site.kernel, site.form, site.arguments, definition, check.checked))
    ffi = []
    for declaration in declarations:
        definitions = index.host_functions.get(declaration.name, [])
        definition = where(definitions[0], root) if definitions else None
        ffi.append(FfiRecord(ctx.source.line_of(declaration.start) + 1, declaration.name, definition, bool(definitions)))
    return launches, ffi


def _line_count(source: SourceText) -> int:
    """Lines as `wc -l` and editors count them: a final line break does not start another line."""
    count = source.line_count
    return count - 1 if source.data.endswith(b"\n") else count


def _line_text(source: SourceText) -> LineText:
    def text(line: int) -> str | None:
        return source.line_text(line) if 0 <= line < source.line_count else None

    return text


def audit_source(
    source: SourceText, path: str, settings: Settings, tree: Tree | None = None, file: Path | None = None
) -> FileAudit:
    """Parse (unless `tree` is given) and audit one file's text; never raises on user input.

    With `file` (where the text lives on disk), its crate is known: the kernel
    launches and `extern "C"` declarations are compared with the workspace's CUDA sources.
    """
    rules = [ALL_RULES[rule_id] for rule_id in AUDIT_RULES]
    try:
        crate_dir = crate_dir_of(file) if file is not None else None
        crate = crate_index(crate_dir) if crate_dir is not None else None
        ctx, _, tree = engine.prepare(source, path, settings, rules, tree=tree, crate=crate, file=file)
        audit = audit_file(ctx)
    except Exception as error:  # a checker bug must not lose the other files' inventory
        log.exception("audit failed on %s", path)
        return FileAudit(path, error=f"internal error: {error!r}")
    if tree.root_node.has_error:
        audit.warnings.append("syntax error: the inventory of the code around it may be incomplete")
    return audit


def audit_path(path: Path, display: str, settings: Settings) -> FileAudit:
    """Read and audit one file on disk (a `workspace.map_files` task)."""
    try:
        source = engine.read_source(path, settings)
    except SourceError as error:
        return FileAudit(display, error=str(error))
    return audit_source(source, display, settings, file=path.resolve())
