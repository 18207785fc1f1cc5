"""Functions of a preprocessed C/C++/CUDA translation unit, read with the tree-sitter CUDA grammar.

Each `extern "C"` function (on its own declaration or inside an `extern "C" { }`
block) with its parameters' types and names, its return type, whether it is a
`__global__` kernel and its `__launch_bounds__`. Only `extern "C"` functions
can be named from Rust (a kernel by `get_func("name")`, a host function by an
`extern "C"` declaration); templates and C++-mangled functions are skipped.
Types are kept as written, normalized to their base words and `*`s
(`const float* __restrict__` -> `float*`, `int a[]` -> `int*`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tree_sitter import Language, Node, Parser

from safety_ls.facts.cuda_preprocess import Preprocessed

_QUALIFIERS = {"const", "volatile", "__restrict__", "__restrict", "restrict", "struct", "enum", "union"}
_DECLARATORS = ("pointer_declarator", "array_declarator", "reference_declarator", "abstract_pointer_declarator",
                "abstract_array_declarator", "parenthesized_declarator", "abstract_reference_declarator")


@dataclass(frozen=True)
class CParameter:
    type: str  # normalized: `float*`, `unsigned int`, `cudaStream_t`
    name: str | None


@dataclass(frozen=True)
class CFunction:
    name: str
    parameters: tuple[CParameter, ...]
    return_type: str
    kernel: bool  # `__global__`
    defined: bool  # has a body (else a prototype)
    max_threads: int | None  # __launch_bounds__'s first argument, when a number
    path: str
    line: int  # 1-based line of the name, in `path`


@lru_cache(maxsize=1)
def _parser() -> Parser:
    import tree_sitter_cuda  # here, not at the top: most runs never read a CUDA file, and every run starts

    return Parser(Language(tree_sitter_cuda.language()))


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _base_type(declaration: Node) -> str:
    """The type specifier words of a declaration (`unsigned int`, `float`), qualifiers left out."""
    words = []
    for child in declaration.children:
        if child.type in ("primitive_type", "type_identifier", "sized_type_specifier", "qualified_identifier",
                          "struct_specifier", "enum_specifier", "union_specifier", "template_type"):
            words.extend(word for word in _text(child).split() if word not in _QUALIFIERS)
    return " ".join(words)


def _declared(declarator: Node | None) -> tuple[int, str | None, Node | None]:
    """(pointer depth, declared name, the function_declarator if any) of a declarator chain."""
    depth, name = 0, None
    current = declarator
    while current is not None:
        if current.type == "function_declarator":
            return depth, name, current
        if current.type in ("pointer_declarator", "abstract_pointer_declarator", "array_declarator",
                            "abstract_array_declarator", "reference_declarator", "abstract_reference_declarator"):
            depth += 1
        if current.type in ("identifier", "field_identifier", "qualified_identifier"):
            return depth, _text(current), None
        inner = current.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in current.named_children if c.type in (*_DECLARATORS, "identifier", "function_declarator")), None)
        current = inner
    return depth, name, None


def _parameter(node: Node) -> CParameter:
    depth, name, _ = _declared(node.child_by_field_name("declarator"))
    return CParameter(_base_type(node) + "*" * depth, name)


def _is_extern_c(node: Node) -> bool:
    for ancestor in _ancestors(node):
        if ancestor.type == "linkage_specification":
            value = ancestor.child_by_field_name("value")
            return value is not None and _text(value).strip('"') == "C"
        if ancestor.type in ("template_declaration", "function_definition", "class_specifier", "struct_specifier"):
            return False
    return False


def _ancestors(node: Node):  # type: ignore[no-untyped-def]
    current = node.parent
    while current is not None:
        yield current
        current = current.parent


def _launch_bounds(node: Node) -> int | None:
    bounds = next((c for c in node.children if c.type == "launch_bounds"), None)
    first = bounds.named_children[0] if bounds is not None and bounds.named_children else None
    if first is None:
        return None
    digits = _text(first).rstrip("uUlL")
    return int(digits, 0) if digits.isdigit() or digits.lower().startswith("0x") else None


def _function(node: Node, unit: Preprocessed) -> CFunction | None:
    depth, _, function = _declared(node.child_by_field_name("declarator"))
    if function is None:
        return None
    name_node = function.child_by_field_name("declarator")
    parameters = function.child_by_field_name("parameters")
    if name_node is None or name_node.type != "identifier" or parameters is None:
        return None
    items = tuple(_parameter(p) for p in parameters.named_children if p.type == "parameter_declaration")
    if len(items) == 1 and items[0].type == "void" and items[0].name is None:
        items = ()
    if any(p.type == "variadic_parameter" for p in parameters.named_children):
        return None  # `...`: any count is right
    path, line = unit.origin(name_node.start_point[0])
    return CFunction(
        name=_text(name_node),
        parameters=items,
        return_type=_base_type(node) + "*" * depth,
        kernel=any(child.type == "__global__" for child in node.children),
        defined=node.type == "function_definition",
        max_threads=_launch_bounds(node),
        path=path,
        line=line,
    )


def extern_c_functions(unit: Preprocessed) -> list[CFunction]:
    """Every `extern "C"` function declared or defined in a preprocessed translation unit, in order."""
    tree = _parser().parse(unit.text.encode("utf-8"))
    found: list[CFunction] = []
    pending = [tree.root_node]
    while pending:
        node = pending.pop()
        if node.type in ("function_definition", "declaration") and _is_extern_c(node):
            function = _function(node, unit)
            if function is not None:
                found.append(function)
            continue
        if node.type in ("function_definition", "template_declaration"):
            continue  # bodies declare nothing linkable; templates are mangled
        pending.extend(reversed(node.children))
    return found
