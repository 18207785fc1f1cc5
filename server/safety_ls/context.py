"""The per-file context handed to every rule's check function."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from tree_sitter import Node, Query

from .crate import CrateIndex, Reexport, StructInfo, reexports_in, structs_in
from .parsing import SyntaxUnit, captures, query
from .placement import Annotation, find_annotation
from .source import SourceText

if TYPE_CHECKING:
    from .config import Settings

# One query finds every site any rule looks at; it runs once per syntax unit,
# in tree-sitter's C code, so that no rule walks the whole tree in Python.
_SITES = """
(unsafe_block) @unsafe_block
(impl_item "unsafe") @unsafe_impl
(function_item (function_modifiers "unsafe")) @unsafe_fn
(function_signature_item (function_modifiers "unsafe")) @unsafe_fn
(trait_item "unsafe") @unsafe_trait
(type_cast_expression) @cast
(call_expression function: (field_expression field: (field_identifier) @method_name)) @method_call
(call_expression function: (identifier) @function_name) @function_call
(call_expression function: (scoped_identifier name: (identifier) @function_name)) @function_call
(dynamic_type) @dyn_type
(index_expression) @index
(attribute_item) @attribute
(inner_attribute_item) @inner_attribute
(struct_item) @struct
"""


def _sites_query() -> Query:
    return query(_SITES)


@dataclass
class FileContext:
    path: str  # as shown to people
    source: SourceText
    unit: SyntaxUnit
    settings: "Settings"
    crate: CrateIndex | None = None
    module_is_public: bool = True
    module_path: tuple[str, ...] = ()
    _sites: dict[int, dict[str, list[Node]]] = field(default_factory=dict)
    _structs: dict[str, StructInfo] | None = None
    # Other files whose contents this file's results depend on (struct definitions).
    dependencies: set[str] = field(default_factory=set)
    _reexports: list[Reexport] | None = None

    def is_reexported(self, module: tuple[str, ...], name: str) -> bool:
        """Whether a `pub use` in this file or a public module of its crate exports `module::name`."""
        if self._reexports is None:
            found = list(self.crate.reexports) if self.crate is not None else []
            found.extend(reexports_in(self.source.data, self.module_path))
            self._reexports = found
        return any(reexport.exports(module, name) for reexport in self._reexports)

    @property
    def units(self) -> list[SyntaxUnit]:
        return self.unit.walk_units()

    def sites(self, capture: str) -> Iterator[tuple[SyntaxUnit, Node]]:
        """Nodes captured as `capture`, in every unit (the file and its macro fragments)."""
        for unit in self.units:
            found = self._sites.get(id(unit))
            if found is None:
                found = captures(_sites_query(), unit.root)
                self._sites[id(unit)] = found
            for node in found.get(capture, ()):
                if not unit.is_synthetic(node):
                    yield unit, node

    def annotation(self, unit: SyntaxUnit, site: Node, tag: str, offset: int | None = None) -> Annotation | None:
        start = unit.start(site) if offset is None else offset
        return find_annotation(self.source, unit, site, start, tag, self.settings.placement)

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
