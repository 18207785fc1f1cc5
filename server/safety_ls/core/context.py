"""The per-file context handed to every rule's check function."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterator

from tree_sitter import Node, Query, QueryCursor

from safety_ls.core import triggers
from safety_ls.core.crate import (
    CrateIndex,
    Reexport,
    StructInfo,
    reexports_in,
    structs_in,
)
from safety_ls.core.fix_requests import CommentInsertion
from safety_ls.core.parsing import SyntaxUnit, in_document_order, query
from safety_ls.core.placement import Annotation, find_annotation, insertion_point
from safety_ls.core.settings import Settings
from safety_ls.core.source import SourceText

# The sites rules look at, by capture name. The patterns a file's active rules
# need are joined into one query, run once per syntax unit in tree-sitter's C
# code, so that no rule walks the whole tree in Python.
SITE_PATTERNS = {
    "unsafe_block": "(unsafe_block) @unsafe_block",
    "unsafe_impl": '(impl_item "unsafe") @unsafe_impl',
    "unsafe_fn": """
        (function_item (function_modifiers "unsafe")) @unsafe_fn
        (function_signature_item (function_modifiers "unsafe")) @unsafe_fn""",
    "unsafe_trait": '(trait_item "unsafe") @unsafe_trait',
    "unsafe_extern": '(foreign_mod_item "unsafe") @unsafe_extern',
    "cast": "(type_cast_expression type: (primitive_type)) @cast",
    "dyn_type": "(dynamic_type) @dyn_type",
    "index": "(index_expression) @index",
    "attribute": "(attribute_item) @attribute",
    "struct": "(struct_item) @struct",
    "extern_block": "(foreign_mod_item) @extern_block",
}
# Sites found from their keyword instead of by a query: each match of the
# text is looked up in the tree (a few C calls), which costs far less than
# running a query over the whole tree. Values: (text, keyword token, {parent
# type: site name}).
_KEYWORD_SITES: dict[str, tuple[re.Pattern[bytes], str, dict[str, str]]] = {
    "unsafe": (
        triggers.UNSAFE,
        "unsafe",
        {
            "unsafe_block": "unsafe_block",
            "impl_item": "unsafe_impl",
            "trait_item": "unsafe_trait",
            "function_modifiers": "unsafe_fn",
            "foreign_mod_item": "unsafe_extern",
        },
    ),
    "as": (triggers.NUMERIC_CAST, "as", {"type_cast_expression": "cast"}),
    "dyn": (triggers.DYN, "dyn", {"dynamic_type": "dyn_type"}),
}
_KEYWORD_OF_SITE = {site: keyword for keyword, (_, _, parents) in _KEYWORD_SITES.items() for site in parents.values()}
# Sites found from the names rules ask for (the `methods` and `functions` of find_sites), the
# same way: `.a()?.b()?...` nests each call in the next, and a query's pattern for a call stays
# open over its whole receiver, so tree-sitter's query time grows with the square of a chain.
_NAMED_SITES = frozenset({"method_name", "function_name"})
SITE_NAMES = frozenset(SITE_PATTERNS) | _NAMED_SITES


Region = tuple[int, int]  # byte offsets into a unit's data


def _keyword_sites(
    unit: SyntaxUnit, keyword: str, wanted: frozenset[str], found: dict[str, list[Node]], region: Region
) -> None:
    text, token_type, parents = _KEYWORD_SITES[keyword]
    for match in text.finditer(unit.data, *region):
        token = unit.descendant_for_byte_range(match.start(), match.start() + len(token_type))
        parent = unit.parent_of(token) if token is not None and token.type == token_type else None
        if parent is None:
            continue  # the word sits in a comment, a string or a macro's token tree
        site = parents.get(parent.type)
        if site == "unsafe_fn":
            parent = unit.parent_of(parent)  # function_modifiers -> the function item or signature
            if parent is None or parent.type not in ("function_item", "function_signature_item"):
                continue  # half-typed code: the modifiers hang in an ERROR node, there is no function yet
        if site in wanted and parent is not None:
            found.setdefault(site, []).append(parent)


@lru_cache(maxsize=64)
def _any_name(names: tuple[str, ...]) -> re.Pattern[bytes]:
    return re.compile(triggers.word(*sorted(set(names))) + rb"\b")


def _called_name_sites(
    unit: SyntaxUnit, methods: tuple[str, ...], functions: tuple[str, ...], found: dict[str, list[Node]], region: Region
) -> None:
    """`method_name`: the name in `x.name(..)`; `function_name`: the name in `name(..)` or `path::name(..)`."""
    if not methods and not functions:
        return
    for match in _any_name(methods + functions).finditer(unit.data, *region):
        token = unit.descendant_for_byte_range(match.start(), match.end())
        if token is None or token.start_byte != match.start() or token.end_byte != match.end():
            continue  # part of a longer token: a comment, a string, `r#name`
        parent = unit.parent_of(token)
        if parent is None:
            continue
        name = match.group().decode()
        if token.type == "field_identifier" and parent.type == "field_expression" and name in methods:
            site, callee = "method_name", parent
        elif token.type == "identifier" and name in functions and (
            parent.type == "call_expression" or (parent.type == "scoped_identifier" and parent.child_by_field_name("name") == token)
        ):
            site, callee = "function_name", token if parent.type == "call_expression" else parent
        else:
            continue
        call = unit.parent_of(callee)
        if call is not None and call.type == "call_expression" and call.child_by_field_name("function") == callee:
            found.setdefault(site, []).append(token)


def find_sites(
    unit: SyntaxUnit,
    names: frozenset[str],
    methods: tuple[str, ...],
    functions: tuple[str, ...],
    region: Region | None = None,
) -> dict[str, list[Node]]:
    """Every site of the named kinds in one unit's tree (starting inside `region`, if given)."""
    found: dict[str, list[Node]] = {}
    local = (0, len(unit.data)) if region is None else region
    by_keyword = frozenset(name for name in names if name in _KEYWORD_OF_SITE)
    for keyword in {_KEYWORD_OF_SITE[name] for name in by_keyword}:
        _keyword_sites(unit, keyword, by_keyword, found, local)
    _called_name_sites(
        unit,
        methods if "method_name" in names else (),
        functions if "function_name" in names else (),
        found,
        local,
    )
    queried = names - by_keyword - _NAMED_SITES
    if queried:
        cursor = QueryCursor(sites_query(queried))
        if region is not None:
            cursor.set_byte_range(*region)
        for name, nodes in cursor.captures(unit.root).items():
            found[name] = [node for node in nodes if local[0] <= node.start_byte < local[1]]
    for nodes in found.values():
        # The captures, and the casts of `x as u8 as u16` found from their `as` (inner first), in
        # one order: analyze keeps one finding per rule and start, so the order decides which of
        # two nested sites at one byte is reported.
        in_document_order(nodes)
    return found


@lru_cache(maxsize=64)
def sites_query(names: frozenset[str]) -> Query:
    return query("\n".join(SITE_PATTERNS[name] for name in sorted(names)))


def _several_items(line: bytes) -> bool:
    """Whether a line inside a list holds more than one item (a comma outside brackets and strings)."""
    depth, quoted = 0, False
    body = line.rstrip().removesuffix(b",")
    for index, byte in enumerate(body):
        if byte == ord('"') and (index == 0 or body[index - 1] != ord("\\")):
            quoted = not quoted
        elif not quoted and byte in b"([{":
            depth += 1
        elif not quoted and byte in b")]}":
            depth -= 1
        elif not quoted and depth == 0 and byte == ord(","):
            return True
    return False


@dataclass
class FileContext:
    path: str  # as shown to people
    source: SourceText
    unit: SyntaxUnit
    settings: "Settings"
    crate: CrateIndex | None = None
    module_is_public: bool = True
    module_path: tuple[str, ...] = ()
    site_names: frozenset[str] = SITE_NAMES
    # Method names whose calls the active rules read (`method_name` sites), besides the matmul-like ones.
    methods: tuple[str, ...] = ()
    # Only sites starting in these file offsets are analysed (the language server's edits).
    region: tuple[int, int] | None = None
    _sites: dict[int, dict[str, list[Node]]] = field(default_factory=dict)
    _structs: dict[str, StructInfo] | None = None
    # Other files whose contents this file's results depend on (struct definitions).
    dependencies: set[str] = field(default_factory=set)
    # Rust files whose results depend on the kernel source in their string literals only (the CUDA index).
    kernel_source_dependencies: set[str] = field(default_factory=set)
    # Caveats on this file's results that are not findings (a `.cu` file that did not preprocess cleanly).
    warnings: list[str] = field(default_factory=list)
    _reexports: list[Reexport] | None = None

    def is_reexported(self, module: tuple[str, ...], name: str) -> bool:
        """Whether a `pub use` in this file or a public module of its crate exports `module::name`."""
        if self._reexports is None:
            found = list(self.crate.reexports) if self.crate is not None else []
            found.extend(reexports_in(self.source.data, self.module_path))
            self._reexports = found
        return any(reexport.exports(module, name) for reexport in self._reexports)

    def _local_region(self, unit: SyntaxUnit) -> Region | None:
        if self.region is None:
            return None
        start, end = self.region[0] - unit.shift, self.region[1] - unit.shift
        return max(start, 0), max(min(end, len(unit.data)), 0)

    def text_bounds(self) -> tuple[int, int]:
        """The file offsets whose text can hold findings: the region, or the whole file."""
        if self.region is None:
            return 0, len(self.source.data)
        return max(self.region[0], 0), min(self.region[1], len(self.source.data))

    def in_region(self, offset: int) -> bool:
        return self.region is None or self.region[0] <= offset < self.region[1]

    @property
    def units(self) -> list[SyntaxUnit]:
        return self.unit.walk_units()

    def sites(self, capture: str) -> Iterator[tuple[SyntaxUnit, Node]]:
        """Nodes captured as `capture`, in every unit (the file and its macro fragments)."""
        for unit in self.units:
            found = self._sites.get(id(unit))
            if found is None:
                matmul = self.settings.matmul_methods
                found = find_sites(unit, self.site_names, self.methods + matmul, matmul, self._local_region(unit))
                self._sites[id(unit)] = found
            for node in found.get(capture, ()):
                if not unit.is_synthetic(node):
                    yield unit, node

    def annotation(self, unit: SyntaxUnit, site: Node, tag: str, offset: int | None = None) -> Annotation | None:
        start = unit.start(site) if offset is None else offset
        return find_annotation(self.source, unit, site, start, tag, self.settings.placement)

    def comment_fix(
        self, unit: SyntaxUnit, site: Node, tag: str, template: str, context: dict[str, Any], offset: int | None = None
    ) -> CommentInsertion | None:
        """A request to insert `template` as a comment where `tag` would be accepted for `site`, if anywhere."""
        start = unit.start(site) if offset is None else offset
        point = insertion_point(self.source, unit, site, start, tag, self.settings.placement)
        if point is None:
            return None
        offset, indent = point
        line = self.source.line_of(offset)
        # The code on the line, read in place: a generated file's one long line holds thousands of sites.
        data, code, code_end = self.source.data, self.source.indentation_end(line), self.source.line_bounds(line)[1]
        above = self.source.line_bytes(line - 1).split(b"//")[0].rstrip() if line > 0 else b""
        closing = data[code : min(code + 1, code_end)] in (b")", b"]", b"}", b">")
        in_list = above.endswith((b"(", b"[", b",")) and not closing
        if data.startswith(b"/*", code, code_end) or above.endswith(b"=") or (in_list and _several_items(data[code:code_end])):
            # Above `/* name */ arg,` rustfmt rejoins the two comments and moves the argument; after
            # `type X =` it drops the comment; above `a, b,` in a list it puts each item on a line of
            # its own: no insertion keeps the file as rustfmt has it.
            return None
        if closing:
            # Before a closing delimiter rustfmt indents a comment as the list's or block's content.
            indent += "\t" if "\t" in indent else "    "
        return CommentInsertion(offset, indent, tag, template, context)

    def struct_is_public(self, name: str) -> bool | None:
        """Whether `struct name` (in this file, else the crate) is `pub`; None when not found."""
        if self._structs is None:
            self._structs = structs_in(self.unit.root, self.unit.data, self.path)
        if name in self._structs:
            return self._structs[name].public
        return self.crate.struct_is_public(name) if self.crate is not None else None

    def struct(self, name: str) -> StructInfo | None:
        """A struct defined in this file, else anywhere in the crate."""
        if self._structs is None:
            self._structs = structs_in(self.unit.root, self.unit.data, self.path)
        found = self._structs.get(name)
        if found is None and self.crate is not None:
            found = self.crate.find_struct(name)
            if found is not None:
                self.dependencies.add(found.path)
        return found
