"""What a file needs to know about its crate, found without parsing every file.

clippy's `missing_safety_doc` fires only on items reachable from outside the
crate. We approximate rustc's effective visibility from the module tree:
`mod` declarations are read with a regular expression starting at the
crate root (lib.rs, main.rs, or a `[lib] path`); a file is public when every
`mod` on the way down is `pub`, or when a `pub use` names the module; an item
in a private module counts as exported when a `pub use` names it. Structs for
the Send/Sync rule are looked up lazily: files that mention `struct Name`
are parsed on demand.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tree_sitter import Node

from .parsing import captures, parse, query

_MOD_DECLARATION = re.compile(
    rb"^[ \t]*(?:#\[path\s*=\s*\"(?P<path>[^\"]+)\"\][ \t\r\n]*)?"
    rb"(?P<vis>pub(?:[ \t]*\([^)]*\))?[ \t]+)?mod[ \t]+(?:r#)?(?P<name>\w+)[ \t]*;",
    re.M,
)
_PUB_USE = re.compile(rb"^[ \t]*pub[ \t]+use[ \t]+([^;]+);", re.M)
_WORD = re.compile(rb"[A-Za-z_]\w*")


def pub_use_names(data: bytes) -> set[str]:
    """Every identifier named in the `pub use` items of a file."""
    return {word.decode() for use in _PUB_USE.finditer(data) for word in _WORD.findall(use.group(1))}


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
    public_files: set[Path] = field(default_factory=set)
    module_files: set[Path] = field(default_factory=set)
    reexported_names: frozenset[str] = frozenset()

    def file_is_public(self, path: Path) -> bool:
        resolved = path.resolve()
        if resolved in self.module_files:
            return resolved in self.public_files
        # Not reached from a root (an integration test, an example, a lone file): its own root.
        return True

    def find_struct(self, name: str) -> StructInfo | None:
        return _find_struct(self.root_dir, name)


def _crate_roots(crate_dir: Path) -> tuple[Path, ...]:
    roots = []
    manifest = crate_dir / "Cargo.toml"
    try:
        document = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        document = {}
    lib = document.get("lib", {}) if isinstance(document.get("lib"), dict) else {}
    lib_path = crate_dir / lib.get("path", "src/lib.rs")
    if lib_path.is_file():
        roots.append(lib_path.resolve())
    if (crate_dir / "src/main.rs").is_file():
        roots.append((crate_dir / "src/main.rs").resolve())
    return tuple(roots)


def _child_module_file(parent: Path, is_dir_owner: bool, name: str, explicit: str | None) -> Path | None:
    base = parent.parent if is_dir_owner else parent.parent / parent.stem
    if explicit:
        candidate = (parent.parent / explicit).resolve()
        return candidate if candidate.is_file() else None
    for candidate in (base / f"{name}.rs", base / name / "mod.rs"):
        if candidate.is_file():
            return candidate.resolve()
    return None


@lru_cache(maxsize=64)
def crate_index(crate_dir: Path) -> CrateIndex:
    roots = _crate_roots(crate_dir)
    index = CrateIndex(crate_dir, roots)
    names: set[str] = set()
    pending = [(root, True, True) for root in roots]
    while pending:
        path, public, is_dir_owner = pending.pop()
        if path in index.module_files:
            continue
        index.module_files.add(path)
        if public:
            index.public_files.add(path)
        try:
            data = path.read_bytes()
        except OSError:
            continue
        names |= pub_use_names(data)
        for declaration in _MOD_DECLARATION.finditer(data):
            name = declaration.group("name").decode()
            explicit = declaration.group("path").decode() if declaration.group("path") else None
            child = _child_module_file(path, is_dir_owner, name, explicit)
            if child is None:
                continue
            visibility = (declaration.group("vis") or b"").replace(b" ", b"").replace(b"\t", b"")
            child_public = public and visibility == b"pub"
            pending.append((child, child_public, child.name == "mod.rs"))
    index.reexported_names = frozenset(names)
    # A private module named by a `pub use` is treated as re-exported wholesale.
    for path in index.module_files - index.public_files:
        if path.stem in names or (path.name == "mod.rs" and path.parent.name in names):
            index.public_files.add(path)
    return index


def crate_dir_of(path: Path) -> Path | None:
    for directory in path.resolve().parents:
        if (directory / "Cargo.toml").is_file():
            return directory
    return None


_STRUCTS = """
(struct_item name: (type_identifier) @name) @struct
"""


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
    for struct in captures(query(_STRUCTS), root).get("struct", []):
        name_node = struct.child_by_field_name("name")
        if name_node is None:
            continue
        name = data[name_node.start_byte : name_node.end_byte].decode()
        visibility = next((c for c in struct.named_children if c.type == "visibility_modifier"), None)
        public = visibility is not None and data[visibility.start_byte : visibility.end_byte] == b"pub"
        found.setdefault(name, StructInfo(name, struct_fields(struct, data), path, public))
    return found


@lru_cache(maxsize=256)
def _find_struct(crate_dir: Path, name: str) -> StructInfo | None:
    needle = re.compile(rb"\bstruct\s+" + re.escape(name.encode()) + rb"\b")
    for path in sorted(crate_dir.rglob("*.rs")):
        if "target" in path.relative_to(crate_dir).parts:
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if needle.search(data):
            found = structs_in(parse(data).root_node, data, str(path)).get(name)
            if found is not None:
                return found
    return None
