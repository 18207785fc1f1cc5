"""The one analysis engine: the CLI, the language server and the audit call this."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from tree_sitter import Tree

from safety_ls.core.context import FileContext
from safety_ls.core.crate import CrateIndex, crate_index
from safety_ls.core.crate_dirs import crate_dir_of
from safety_ls.core.findings import Diagnostic, FileResult, Finding
from safety_ls.core.parsing import build_units, parse
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceError, SourceText
from safety_ls.engine import suppressions
from safety_ls.engine.test_code import in_ranges, is_test_target, test_item_ranges
from safety_ls.rules import Rule, enabled_rules

# How many lines above and below a finding are kept with it (blank ones are skipped over).
CONTEXT_REACH = 2


def prepare(
    source: SourceText,
    path: str,
    settings: Settings,
    rules: list[Rule],
    *,
    crate: CrateIndex | None = None,
    file: Path | None = None,
    tree: Tree | None = None,
    region: tuple[int, int] | None = None,
) -> tuple[FileContext, list[Rule], Tree]:
    """Parse once for `rules` and build the context they (and the audit) read.

    Returns the context, the rules whose text trigger matched (only these can
    find anything) and the tree. Macro fragments are parsed only where a
    triggered rule's text appears; with no site-reading rule, nothing is parsed.
    """
    matched: dict[bytes, bool] = {}  # rules share triggers: search each pattern once
    # Only the region can produce findings, so only its text needs the rule's trigger.
    bounds = (0, len(source.data)) if region is None else (max(region[0], 0), min(region[1], len(source.data)))

    def triggered(pattern: re.Pattern[bytes] | None) -> bool:
        if pattern is None:
            return True
        if pattern.pattern not in matched:
            matched[pattern.pattern] = pattern.search(source.data, *bounds) is not None
        return matched[pattern.pattern]

    active = [rule for rule in rules if triggered(rule.trigger)]
    site_names = frozenset(name for rule in active for name in rule.sites)
    if site_names:
        if tree is None:
            tree = parse(source.data)
        unit = build_units(tree, source.data, _combined_trigger(tuple(r.trigger for r in active if r.sites)), region)
    else:  # only text rules apply: no tree needed
        tree = parse(b"")
        unit = build_units(tree, b"", None)
    in_crate = crate is not None and file is not None
    ctx = FileContext(
        path,
        source,
        unit,
        settings,
        crate,
        module_is_public=crate.file_is_public(file) if in_crate else True,  # type: ignore[union-attr,arg-type]
        module_path=crate.module_of(file) if in_crate else (),  # type: ignore[union-attr,arg-type]
        site_names=site_names,
        methods=tuple(sorted({method for rule in active for method in rule.methods})),
        region=region,
    )
    return ctx, active, tree


def analyze(
    source: SourceText,
    path: str,
    settings: Settings,
    *,
    crate: CrateIndex | None = None,
    file: Path | None = None,
    tree: Tree | None = None,
    region: tuple[int, int] | None = None,
) -> FileResult:
    """Every enabled rule over one file's text; never raises on user input.

    `crate` and `file` (the file's location in it) give the crate-level facts:
    the module's visibility and path, and lint levels inherited from above.
    With `region` (file byte offsets), only findings that start inside it are
    computed, without the file's warnings and excerpts: the language server
    re-analyses the item an edit touched.
    """
    if not settings.tests and is_test_target(file or Path(path), crate.root_dir if crate is not None else None):
        return FileResult(path)
    ctx, rules, tree = prepare(
        source, path, settings, enabled_rules(settings), crate=crate, file=file, tree=tree, region=region
    )
    test_items = [] if settings.tests else test_item_ranges(source.data, tree)
    unit = ctx.unit
    in_crate = crate is not None and file is not None
    silenced = suppressions.collect(source, unit, region)
    if in_crate:
        silenced.allow_lints_in_file(crate.lints_allowed_in(file))  # type: ignore[union-attr,arg-type]
    result = FileResult(path)
    seen: set[tuple[str, int]] = set()
    for rule in rules:
        try:
            findings: list[Finding] = list(rule.check(ctx))
        except Exception as error:  # a rule bug must not hide the other rules' findings
            import logging  # only a rule's bug pays for it: a pre-commit run starts without it

            logging.getLogger(__name__).exception("rule %s failed on %s", rule.id, path)
            result.warnings.append(f"internal error in rule {rule.id}: {error!r}; other rules ran")
            continue
        for finding in findings:
            if not ctx.in_region(finding.start) or in_ranges(finding.start, test_items):
                continue
            key = (finding.rule, finding.start)
            if key in seen or silenced.silences(finding, source):
                continue
            seen.add(key)
            result.diagnostics.append(
                Diagnostic.place(
                    path, source, finding, settings.severity_of(rule.id, rule.default_severity), rule.fixable and finding.fix is not None
                )
            )
    result.dependencies = sorted(ctx.dependencies)
    result.kernel_source_dependencies = sorted(ctx.kernel_source_dependencies - ctx.dependencies)
    result.warnings.extend(dict.fromkeys(ctx.warnings))
    result.diagnostics.sort(key=Diagnostic.sort_key)
    if region is None:  # what only a whole file's result carries: the server's keystrokes skip it
        _add_file_warnings(result, silenced, tree)
        for diagnostic in result.diagnostics:
            for line in context_lines(source, diagnostic.line - 1):
                if line not in result.excerpts:
                    result.excerpts[line] = source.line_text(line)
    return result


def _add_file_warnings(result: FileResult, silenced: suppressions.Suppressions, tree: Tree) -> None:
    unknown = suppressions.unknown_rules(silenced)
    if unknown:
        result.warnings.append(f"`safety-ls: allow` names unknown rule(s): {', '.join(sorted(unknown))}")
    if tree.root_node.has_error:
        line = _first_error_line(tree)
        result.warnings.append(
            f"syntax error near line {line}: results for the code around it may be incomplete"
        )


@lru_cache(maxsize=64)
def _combined_trigger(triggers: tuple[re.Pattern[bytes] | None, ...]) -> re.Pattern[bytes]:
    """One pattern matching wherever any of the rules' triggers would."""
    if any(trigger is None for trigger in triggers):
        return re.compile(rb"")
    patterns = dict.fromkeys(trigger.pattern for trigger in triggers if trigger)  # rules share triggers
    return re.compile(b"|".join(b"(?:" + pattern + b")" for pattern in patterns))


def context_lines(source: SourceText, line: int) -> range:
    """The lines kept with a finding on `line`: it and its neighbours (core/fingerprints.py reads them)."""
    return range(max(line - CONTEXT_REACH, 0), min(line + CONTEXT_REACH + 1, source.line_count))


def _first_error_line(tree: Tree) -> int:
    cursor = tree.walk()
    while True:
        node = cursor.node
        if node is not None and (node.is_error or node.is_missing):
            return node.start_point[0] + 1
        if node is not None and node.has_error and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return 1


def read_source(path: Path, settings: Settings) -> SourceText:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None
    if size > settings.max_file_size:
        raise SourceError(
            f"file is {size / 1_048_576:.1f} MiB, over the {settings.max_file_size / 1_048_576:.1f} MiB "
            "limit; raise `max-file-size` or add it to `exclude`"
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None
    return SourceText(data)


def check_path(path: Path, display: str, settings: Settings) -> FileResult:
    """Read, parse and analyse one file on disk; errors become `FileResult.error`."""
    try:
        source = read_source(path, settings)
    except SourceError as error:
        return FileResult(display, error=str(error))
    resolved = path.resolve()
    crate_dir = crate_dir_of(resolved)
    crate = crate_index(crate_dir) if crate_dir is not None else None
    return analyze(source, display, settings, crate=crate, file=resolved)
