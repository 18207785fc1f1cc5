"""Functions and closures as scopes: each node's enclosing one, and the bindings (`let`s, `for`
patterns) each of them makes, indexed once per syntax unit.

Several facts look a local name up from where it is used (a cast's source type, a tensor's
dtype); walking the function body for each use made a long function quadratic.
"""

from __future__ import annotations

import bisect
from typing import Iterator

from tree_sitter import Node, QueryCursor

from safety_ls.core.parsing import SyntaxUnit, query

_SCOPES = ("function_item", "closure_expression")
_BINDINGS = query(
    """[(function_item) (closure_expression)] @scope
    [(let_declaration) (for_expression)] @binding"""
)


class _Scopes:
    """Per syntax unit, computed once: each node's enclosing function or closure, and the bindings
    (`let`s and `for` patterns) of each, by name.

    Every cast of a long expression asks the same questions; walking up the expression and then
    the whole function body for each of them made `a as f64 + b as f64 + ...` quadratic.
    """

    def __init__(self, unit: SyntaxUnit) -> None:
        self.unit = unit
        self.enclosing: dict[int, Node | None] = {}
        # function or closure id -> bound name -> the `let`s and `for`s binding it, by offset
        self.bindings: dict[int, dict[str, list[tuple[int, Node]]]] = {}

    def scope_of(self, node: Node) -> Node | None:
        """The nearest function item or closure above `node`."""
        passed: list[int] = []
        current = self.unit.parent_of(node)
        found: Node | None = None
        while current is not None:
            if current.id in self.enclosing:
                found = self.enclosing[current.id]
                break
            if current.type in _SCOPES:
                found = current
                break
            passed.append(current.id)
            current = self.unit.parent_of(current)
        for node_id in passed:
            self.enclosing[node_id] = found
        return found

    def bindings_in(self, function: Node) -> dict[str, list[tuple[int, Node]]]:
        """The `let`s and `for` loops of a function's body (not of nested closures or fns), by the name they bind."""
        if function.id not in self.bindings:
            # Indexed from the outermost scope not yet indexed: closures nested n deep, each
            # asked in turn from the innermost out, were each indexed with all inside them.
            outermost = function
            while (enclosing := self.scope_of(outermost)) is not None and enclosing.id not in self.bindings:
                outermost = enclosing
            self._index_bindings(outermost)
        return self.bindings.setdefault(function.id, {})

    def _index_bindings(self, function: Node) -> None:
        """The bindings of `function` and of the closures and fns inside it, found by one query over
        its text and given to their innermost scope in one pass in document order (a Python walk
        of every function body cost more than the parse; a query over the whole file would cost
        every keystroke the whole file)."""
        cursor = QueryCursor(_BINDINGS)
        cursor.set_byte_range(function.start_byte, function.end_byte)
        found = cursor.captures(function)
        scopes = sorted(found.get("scope", []), key=lambda node: node.start_byte)
        indexed_before = {scope.id for scope in scopes if scope.id in self.bindings}
        for scope in scopes:
            self.bindings.setdefault(scope.id, {})
        open_scopes: list[Node] = []  # the scopes around the current position, innermost last
        next_scope = 0
        for binding in sorted(found.get("binding", []), key=lambda node: node.start_byte):
            while next_scope < len(scopes) and scopes[next_scope].start_byte <= binding.start_byte:
                _close_before(open_scopes, scopes[next_scope].start_byte)
                open_scopes.append(scopes[next_scope])
                next_scope += 1
            _close_before(open_scopes, binding.start_byte)
            pattern = binding.child_by_field_name("pattern")
            if not open_scopes or pattern is None or open_scopes[-1].id in indexed_before:
                continue
            names = {self.unit.text(pattern).removeprefix("mut ").strip()}
            if pattern.type == "tuple_pattern" and pattern.named_child_count:
                names.add(self.unit.text(pattern.named_child(0)))  # type: ignore[arg-type]
            by_name = self.bindings[open_scopes[-1].id]
            for name in names:
                by_name.setdefault(name, []).append((binding.start_byte, binding))


def _close_before(open_scopes: list[Node], offset: int) -> None:
    while open_scopes and open_scopes[-1].end_byte <= offset:
        open_scopes.pop()


def _scopes(unit: SyntaxUnit) -> _Scopes:
    scopes = unit.memo.get(__name__)
    if scopes is None:
        scopes = unit.memo[__name__] = _Scopes(unit)
    return scopes


def scope_of(unit: SyntaxUnit, node: Node) -> Node | None:
    """The nearest function item or closure above `node`."""
    return _scopes(unit).scope_of(node)


def bindings_in(unit: SyntaxUnit, function: Node) -> dict[str, list[tuple[int, Node]]]:
    """The `let`s and `for` loops of a function's (or closure's) body, not of the closures and fns
    inside it, by the name they bind (a tuple pattern's first name too), each list by offset."""
    return _scopes(unit).bindings_in(function)


def bindings_before(unit: SyntaxUnit, function: Node, name: str, position: int) -> Iterator[Node]:
    """`bindings_in` of `name` that start before `position`, the latest first: a caller looking for
    the binding a use sees stops at the first that holds, instead of scanning all the earlier ones
    (a long run of `let x = x.f()?;` made that quadratic)."""
    entries = bindings_in(unit, function).get(name, [])
    index = bisect.bisect_left(entries, position, key=lambda entry: entry[0])
    while index > 0:
        index -= 1
        yield entries[index][1]
