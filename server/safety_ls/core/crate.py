"""What a file needs to know about its crate, found without parsing every file.

clippy's `missing_safety_doc` fires only on items reachable from outside the
crate. We approximate rustc's effective visibility from the module tree,
read with regular expressions from the crate root (lib.rs, main.rs, or a
`[lib] path`): a file's module is public when every `mod` on the way down is
`pub`; an item in a private module is exported when a `pub use` names it
(or globs its module). Lint levels set with `#![allow(..)]` in a module, or
`#[allow(..)]` on its `mod` declaration, carry down to its files. Structs for
the Send/Sync rule are looked up lazily: files that mention `struct Name`
are parsed on demand.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from tree_sitter import Node

from safety_ls.core.crate_dirs import forget_crate_dirs
from safety_ls.core.parsing import items_at, parse
from safety_ls.core.triggers import line_items, word

Module = tuple[str, ...]

_MOD_NAME = re.compile(word("mod") + rb"[ \t]+(?:r#)?(\w+)[ \t]*;")
# What may stand before `mod` on its line: attributes, then a visibility.
_MOD_PREFIX = re.compile(rb"[ \t]*(?P<attrs>(?:#\[[^\n]*?\][ \t]*)*)(?P<vis>pub(?:[ \t]*\([^)\n]*\))?[ \t]+)?")
_ATTRIBUTE_LINE = re.compile(rb"^[ \t]*#\[.*\][ \t]*\r?$")
_PATH_ATTRIBUTE = re.compile(rb'#\[\s*path\s*=\s*"([^"]+)"\s*\]')
_INNER_LINT_ATTRIBUTE = re.compile(rb"#!\[\s*(?:allow|expect)\s*\(([^\]]*)\)\s*\]")
_OUTER_LINT_ATTRIBUTE = re.compile(rb"#\[\s*(?:allow|expect)\s*\(([^\]]*)\)\s*\]")
_USE_TREE = re.compile(rb"use[ \t]+([^;]+);")
_BEFORE_USE = re.compile(rb"[ \t]*(?:(pub)(\([^)]*\))?[ \t]+)?")


def _use_items(data: bytes, public_only: bool) -> Iterator[bytes]:
    """The tree of each `use` item starting a line (`pub use` only, if asked)."""
    for before, item in line_items(data, _USE_TREE, _BEFORE_USE):
        if not public_only or (before.group(1) is not None and before.group(2) is None):
            yield item.group(1)


@dataclass(frozen=True)
class Reexport:
    """`pub use prefix::name` written in module `anchor` (`name` may be `*`)."""

    anchor: Module
    prefix: Module
    name: str
    absolute: bool  # the path started at the crate root

    def exports(self, module: Module, name: str) -> bool:
        if self.name != "*" and self.name != name:
            return False
        if self.absolute:
            return module == self.prefix
        # Relative to the anchor, possibly through inline modules the regex cannot see.
        return module[: len(self.anchor)] == self.anchor and module[len(module) - len(self.prefix) :] == self.prefix


# Use trees nested deeper than this are not expanded further: each level re-reads the rest of the
# tree, and recursing into thousands of levels overflowed Python's stack (real code nests a few).
_MAX_USE_NESTING = 64


def _expand_use_tree(text: str) -> list[list[str]]:
    """`a::{b, c::{d, e as f}}` -> [[a, b], [a, c, d], [a, c, e]]."""
    text = re.sub(r"\s+", "", text)
    paths: list[list[str]] = []

    def walk(prefix: list[str], tree: str, nesting: int) -> None:
        if nesting > _MAX_USE_NESTING:
            return
        if "{" not in tree:
            segments = [part for part in tree.split("::") if part]
            if segments:
                paths.append(prefix + segments)
            return
        head, _, rest = tree.partition("{")
        inner = rest[: rest.rfind("}")]
        base = prefix + [part for part in head.split("::") if part]
        depth, start = 0, 0
        for index, char in enumerate(inner + ","):
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            elif char == "," and depth == 0:
                item = inner[start:index]
                if item == "self":
                    paths.append(base)
                elif item:
                    walk(base, item, nesting + 1)
                start = index + 1

    walk([], text, 0)
    return paths


def reexports_in(data: bytes, anchor: Module) -> list[Reexport]:
    found = []
    for tree in _use_items(data, public_only=True):
        raw = tree.decode("utf-8", "replace")
        # `X as Y` exports the original item X under a new name; the original is what we check.
        raw = re.sub(r"\b(\w+)\s+as\s+\w+", r"\1", raw)
        for path in _expand_use_tree(raw):
            absolute = False
            module = list(anchor)
            if path and path[0] == "crate":
                absolute, module, path = True, [], path[1:]
            elif path and path[0] == "self":
                absolute, path = True, path[1:]
            while path and path[0] == "super":
                absolute, module, path = True, module[:-1], path[1:]
            if not path:
                continue
            prefix = tuple(module + path[:-1]) if absolute else tuple(path[:-1])
            found.append(Reexport(anchor, prefix, path[-1], absolute))
    return found


def use_paths(data: bytes) -> list[list[str]]:
    """Every path a `use` item in the text names (`a::{b, c}` -> [a, b], [a, c]; `x as y` -> x)."""
    paths = []
    for tree in _use_items(data, public_only=False):
        raw = re.sub(r"\b(\w+)\s+as\s+\w+", r"\1", tree.decode("utf-8", "replace"))
        paths.extend(_expand_use_tree(raw))
    return paths


def lint_names(data: bytes) -> set[str]:
    return {re.sub(rb"\s+", b"", part).decode() for part in data.split(b",") if part.strip()}


@dataclass(frozen=True)
class StructInfo:
    name: str
    fields: tuple[tuple[str, str], ...]  # (field name or index, type text)
    path: str
    public: bool  # declared exactly `pub`


@dataclass
class CrateIndex:
    root_dir: Path
    root_files: tuple[Path, ...]
    module_paths: dict[Path, Module] = field(default_factory=dict)
    # Modules reachable from outside: a `pub mod` chain, or glob re-exported (`pub use m::*`).
    exported_modules: set[Module] = field(default_factory=set)
    # `pub use` items written in exported modules.
    reexports: list[Reexport] = field(default_factory=list)
    # clippy lints allowed for a whole file by its module's (or an ancestor's) attributes.
    allowed_lints: dict[Path, frozenset[str]] = field(default_factory=dict)
    _reexports_digest: str | None = None

    # Paths given to these methods are resolved (absolute, no symlinks).
    def file_is_public(self, path: Path) -> bool:
        resolved = path
        if resolved in self.module_paths:
            return self.module_paths[resolved] in self.exported_modules
        # Not reached from a root (an integration test, an example, a lone file): its own root.
        return True

    def module_of(self, path: Path) -> Module:
        return self.module_paths.get(path, ())

    def lints_allowed_in(self, path: Path) -> frozenset[str]:
        return self.allowed_lints.get(path, frozenset())

    def state_of(self, path: Path) -> str:
        """A digest of every crate-level fact a file's results depend on."""
        if self._reexports_digest is None:
            self._reexports_digest = hashlib.blake2b(repr(sorted(map(repr, self.reexports))).encode()).hexdigest()
        facts = (self.file_is_public(path), self.module_of(path), sorted(self.lints_allowed_in(path)))
        return hashlib.blake2b(f"{facts!r}{self._reexports_digest}".encode(), digest_size=16).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """The index as JSON values, stored beside cached results (`from_json` reads it back)."""
        return {
            "roots": [str(root) for root in self.root_files],
            "modules": [[str(path), list(module)] for path, module in self.module_paths.items()],
            "exported": sorted(list(module) for module in self.exported_modules),
            "reexports": [[list(r.anchor), list(r.prefix), r.name, r.absolute] for r in self.reexports],
            "lints": [[str(path), sorted(lints)] for path, lints in self.allowed_lints.items()],
        }

    @classmethod
    def from_json(cls, crate_dir: Path, stored: dict[str, Any]) -> CrateIndex:
        """Raises KeyError, TypeError or ValueError on a damaged document."""
        index = cls(crate_dir, tuple(Path(root) for root in stored["roots"]))
        index.module_paths = {Path(path): tuple(module) for path, module in stored["modules"]}
        index.exported_modules = {tuple(module) for module in stored["exported"]}
        index.reexports = [Reexport(tuple(anchor), tuple(prefix), name, absolute) for anchor, prefix, name, absolute in stored["reexports"]]
        index.allowed_lints = {Path(path): frozenset(lints) for path, lints in stored["lints"]}
        return index

    def struct_is_public(self, name: str) -> bool | None:
        """Whether the crate declares `struct name` exactly `pub` (None: not declared)."""
        found = _struct_declarations(self.root_dir).get(name)
        return None if found is None else found[1]

    def find_struct(self, name: str) -> StructInfo | None:
        found = _struct_declarations(self.root_dir).get(name)
        if found is None:
            return None
        return _struct_in_file(found[0], name)


def _crate_roots(crate_dir: Path) -> tuple[Path, ...]:
    roots = []
    try:
        document = tomllib.loads((crate_dir / "Cargo.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        document = {}
    lib = document.get("lib") if isinstance(document.get("lib"), dict) else {}
    lib_path = crate_dir / str(lib.get("path", "src/lib.rs"))
    if lib_path.is_file():
        roots.append(lib_path.resolve())
    if (crate_dir / "src/main.rs").is_file():
        roots.append((crate_dir / "src/main.rs").resolve())
    return tuple(roots)


def _attribute_lines_before(data: bytes, offset: int) -> bytes:
    """The one-line attributes directly above the line at `offset`."""
    lines = []
    end = offset
    while end > 0:
        start = data.rfind(b"\n", 0, end - 1) + 1
        line = data[start:end]
        if not _ATTRIBUTE_LINE.match(line.rstrip(b"\n")):
            break
        lines.append(line)
        end = start
    return b"".join(reversed(lines))


def _child_module_file(parent: Path, owns_directory: bool, name: str, explicit: str | None) -> Path | None:
    if explicit:
        candidate = Path(os.path.normpath(parent.parent / explicit))
        return candidate if candidate.is_file() else None
    base = parent.parent if owns_directory else parent.parent / parent.stem
    for candidate in (base / f"{name}.rs", base / name / "mod.rs"):
        if candidate.is_file():
            return candidate
    return None


def _inner_lints(data: bytes) -> set[str]:
    allowed: set[str] = set()
    for _, match in line_items(data, _INNER_LINT_ATTRIBUTE):
        allowed |= lint_names(match.group(1))
    return allowed


def _module_declarations(data: bytes) -> Iterator[tuple[str, bytes, bytes]]:
    """Each `mod name;` starting a line: its name, the attributes on it, its visibility (no spaces)."""
    if b"mod" not in data:
        return
    # Not matched: `mod` inside a comment, a string, or after code.
    for prefix, declaration in line_items(data, _MOD_NAME, _MOD_PREFIX):
        attributes = prefix.group("attrs") + _attribute_lines_before(data, prefix.start())
        yield declaration.group(1).decode(), attributes, re.sub(rb"\s", b"", prefix.group("vis") or b"")


def module_structure(data: bytes) -> str:
    """A digest of everything `crate_index` reads from one file: while it stays the same, editing
    the file (a function body, a comment) leaves the crate's index, and every other file's
    results, as they were."""
    facts = (sorted(_inner_lints(data)), list(_use_items(data, public_only=True)), list(_module_declarations(data)))
    return hashlib.blake2b(repr(facts).encode(), digest_size=16).hexdigest()


# Indexes read back from the result cache (engine/workspace.py), used instead of building them.
_stored_indexes: dict[Path, CrateIndex] = {}


def use_stored_index(crate_dir: Path, index: CrateIndex) -> None:
    _stored_indexes[crate_dir] = index


def crate_index(crate_dir: Path) -> CrateIndex:
    stored = _stored_indexes.get(crate_dir)
    return stored if stored is not None else _built_index(crate_dir)


@lru_cache(maxsize=64)
def _built_index(crate_dir: Path) -> CrateIndex:
    roots = _crate_roots(crate_dir)
    index = CrateIndex(crate_dir, roots)
    # (file, module path, public, owns its directory, lints allowed from above)
    every_reexport: list[Reexport] = []
    pending: list[tuple[Path, Module, bool, bool, frozenset[str]]] = [
        (root, (), True, True, frozenset()) for root in roots
    ]
    while pending:
        path, module, public, owns_directory, inherited = pending.pop()
        if path in index.module_paths:
            continue
        index.module_paths[path] = module
        try:
            data = path.read_bytes()
        except OSError:
            continue
        allowed = set(inherited) | _inner_lints(data)
        index.allowed_lints[path] = frozenset(allowed)
        if public:
            index.exported_modules.add(module)
        every_reexport.extend(reexports_in(data, module))
        for name, attributes, visibility in _module_declarations(data):
            explicit = _PATH_ATTRIBUTE.search(attributes)
            child = _child_module_file(path, owns_directory, name, explicit.group(1).decode() if explicit else None)
            if child is None:
                continue
            child_allowed = set(allowed)
            for lint in _OUTER_LINT_ATTRIBUTE.finditer(attributes):
                child_allowed |= lint_names(lint.group(1))
            pending.append(
                (child, module + (name,), public and visibility == b"pub", child.name == "mod.rs", frozenset(child_allowed))
            )
    _export_globbed_modules(index, every_reexport)
    index.reexports = [r for r in every_reexport if r.anchor in index.exported_modules]
    return index


def _export_globbed_modules(index: CrateIndex, reexports: list[Reexport]) -> None:
    """`pub use self::m::*` in an exported module exports `m` too, transitively."""
    changed = True
    while changed:
        changed = False
        for reexport in reexports:
            if reexport.name != "*" or reexport.anchor not in index.exported_modules:
                continue
            target = reexport.prefix if reexport.absolute else reexport.anchor + reexport.prefix
            if target not in index.exported_modules:
                index.exported_modules.add(target)
                changed = True


_STRUCT_KEYWORD = re.compile(rb"\bstruct\b")


def struct_fields(struct: Node, data: bytes) -> tuple[tuple[str, str], ...]:
    body = struct.child_by_field_name("body")
    if body is None:
        return ()
    fields = []
    position = 0
    for child in body.named_children:
        if child.type == "field_declaration":
            name = child.child_by_field_name("name")
            kind = child.child_by_field_name("type")
            if name is not None and kind is not None:
                fields.append((data[name.start_byte : name.end_byte].decode(), data[kind.start_byte : kind.end_byte].decode()))
        elif child.type not in ("line_comment", "block_comment", "attribute_item", "visibility_modifier"):
            fields.append((str(position), data[child.start_byte : child.end_byte].decode()))
            position += 1
    return tuple(fields)


def structs_in(root: Node, data: bytes, path: str) -> dict[str, StructInfo]:
    found = {}
    # Found from the keyword's text: a query walks the whole tree (13 ms on a 6,000-line file), for
    # the one struct a cast asked about.
    keywords = _STRUCT_KEYWORD.finditer(data, root.start_byte, root.end_byte)
    for struct in items_at(root, keywords, "struct", ("struct_item",)):
        name_node = struct.child_by_field_name("name")
        if name_node is None:
            continue
        name = data[name_node.start_byte : name_node.end_byte].decode()
        visibility = next((c for c in struct.named_children if c.type == "visibility_modifier"), None)
        public = visibility is not None and data[visibility.start_byte : visibility.end_byte] == b"pub"
        found.setdefault(name, StructInfo(name, struct_fields(struct, data), path, public))
    return found


_STRUCT_NAME = re.compile(rb"struct[ \t]+(\w+)")
_BEFORE_STRUCT = re.compile(rb"[ \t]*(pub(?:[ \t]*\([^)]*\))?[ \t]+)?")


@lru_cache(maxsize=64)
def _struct_declarations(crate_dir: Path) -> dict[str, tuple[Path, bool]]:
    """Every `struct Name` in the crate's files (first one wins), found by text."""
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted(crate_dir.rglob("*.rs")):
        if "target" in path.relative_to(crate_dir).parts:
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for before, match in line_items(data, _STRUCT_NAME, _BEFORE_STRUCT):
            visibility = re.sub(rb"\s", b"", before.group(1) or b"")
            found.setdefault(match.group(1).decode(), (path, visibility == b"pub"))
    return found


@lru_cache(maxsize=256)
def _struct_in_file(path: Path, name: str) -> StructInfo | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return structs_in(parse(data).root_node, data, str(path)).get(name)


def forget_crates() -> None:
    """Drop what is known about crates (after files were saved or config changed on disk)."""
    _built_index.cache_clear()
    _stored_indexes.clear()
    forget_crate_dirs()
    _struct_declarations.cache_clear()
    _struct_in_file.cache_clear()
