"""A launch site compared with what it launches: the kernel (or its family), or an FFI launcher's C definition.

One answer serves the rule (its mismatches), the audit (what was checked and
why not) and the bench. A launch is checked when its kernel was found, every
candidate definition agrees on the parameter count and the call's arguments
are visible; argument types are compared where both sides are known (the exact
member of a family, or a parameter whose type every member shares).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from safety_ls.facts.abi_types import c_abi, incompatible, rust_abi
from safety_ls.facts.argument_types import argument_type
from safety_ls.facts.c_functions import CFunction
from safety_ls.facts.cuda_kernels import KernelIndex
from safety_ls.facts.kernel_families import family
from safety_ls.facts.launches import LaunchSite


@dataclass(frozen=True)
class LaunchCheck:
    definitions: tuple[CFunction, ...]  # what the site launches or calls; empty when not found
    checked: bool
    why_unchecked: str | None
    problems: tuple[str, ...]  # each a sentence: the contradiction found


def _unchecked(definitions: list[CFunction], why: str) -> LaunchCheck:
    return LaunchCheck(tuple(definitions), False, why, ())


def _text_before(site: LaunchSite) -> str:
    """The enclosing function's text up to the launch (the file's, for a launch outside any fn)."""
    start = 0
    for owner, ancestor in site.unit.ancestors(site.node):
        if ancestor.type == "function_item" and owner is site.unit:
            start = ancestor.start_byte
    return site.unit.data[start : site.node.start_byte].decode("utf-8", "replace")


_BRANCHES = frozenset({"if_expression", "else_clause", "match_arm"})
_RETURN = re.compile(r"\breturn\b")


def _every_choice_reaches(site: LaunchSite) -> bool:
    """Whether each kernel a name chosen among literals (`a|b`) can hold reaches this launch: the
    launch sits in no branch of its function and no `return` comes before it. Then a member whose
    parameter count differs is launched with the wrong arguments (candle's q5_k mat-vec kernel)."""
    for _, ancestor in site.unit.ancestors(site.node):
        if ancestor.type in _BRANCHES:
            return False
        if ancestor.type in ("function_item", "closure_expression"):
            break
    return not _RETURN.search(_text_before(site))


def _type_problems(site: LaunchSite, definitions: list[CFunction]) -> list[str]:
    arguments = site.arguments or ()
    before = _text_before(site)
    problems = []
    for position, argument in enumerate(arguments):
        parameter_types = {d.parameters[position].type for d in definitions}
        if len(parameter_types) != 1:
            continue  # family members differ here (the element type): only the exact member could tell
        parameter = definitions[0].parameters[position]
        rust_type = argument_type(argument, before)
        rust, c = rust_abi(rust_type) if rust_type else None, c_abi(parameter.type)
        if incompatible(rust, c):
            problems.append(
                f"argument {position + 1} `{argument}` is `{rust_type}` ({rust}) but parameter "
                f"`{parameter.type} {parameter.name or ''}`".rstrip() + f" is {c}"
            )
    return problems


def _path_and_line(function: CFunction) -> str:
    return f"{function.path}:{function.line}"


def _same_file(indexed: str, shown: str) -> bool:
    """Whether an index path (absolute) is the file shown as `shown` (absolute, or relative to some base)."""
    parts = Path(shown).parts
    return ".." not in parts and Path(indexed).parts[-len(parts):] == parts


def _candidates(site: LaunchSite, index: KernelIndex, path: str | None) -> list[CFunction]:
    """What the site may launch; a kernel compiled from a string of the launching file (NVRTC) wins
    over same-named kernels of other files (tests often all call theirs `kernel`)."""
    if site.form == "ffi":
        return list(index.host_functions.get(site.kernel or "", ()))
    definitions = family(site.kernel or "", index.kernels)
    local = [d for d in definitions if path is not None and _same_file(d.path, path)]
    return local or definitions


def check_launch(
    site: LaunchSite, index: KernelIndex, locate: Callable[[CFunction], str] = _path_and_line, path: str | None = None
) -> LaunchCheck:
    """`site` (in the file shown as `path`, if known) against its definitions; problems name a
    definition's place as `locate` writes it."""
    if not site.kernel:
        return _unchecked([], "kernel name not visible")
    definitions = _candidates(site, index, path)
    if not definitions:
        where = "launcher has no C definition" if site.form == "ffi" else "kernel not found"
        return _unchecked([], f"{where} in the workspace's CUDA sources")
    if site.arguments is None:
        return _unchecked(definitions, "arguments not visible")
    counts = {len(d.parameters) for d in definitions}
    if len(counts) != 1 and "|" in site.kernel and _every_choice_reaches(site):
        passed = len(site.arguments)
        problems = [
            f"`{d.name}` takes {len(d.parameters)} parameter(s) ({locate(d)}) but this launch passes {passed}: "
            f"the name is chosen among {len(definitions)} kernels that all reach it"
            for d in sorted(definitions, key=lambda d: d.name)
            if len(d.parameters) != passed
        ]
        return LaunchCheck(tuple(definitions), True, None, tuple(problems))
    if len(counts) != 1:
        return _unchecked(definitions, "candidate kernels differ in parameter count")
    (count,) = counts
    problems: list[str] = []
    first = definitions[0]
    if len(site.arguments) != count:
        if first.name == site.kernel:
            named = f"`{first.name}`"
        elif "|" in site.kernel:
            named = f"every kernel of `{site.kernel}` ({len(definitions)})"
        else:
            named = f"every `{site.kernel}_<dtype>` kernel ({len(definitions)})"
        problems.append(f"{named} takes {count} parameter(s) ({locate(first)}) but this launch passes {len(site.arguments)}")
    elif site.form != "ffi":
        problems.extend(f"{problem} ({locate(first)})" for problem in _type_problems(site, definitions))
    bounds = {d.max_threads for d in definitions}
    if site.block_threads is not None and len(bounds) == 1 and None not in bounds:
        (limit,) = bounds
        if limit is not None and site.block_threads > limit:
            problems.append(
                f"a block of {site.block_threads} threads is over `{first.name}`'s "
                f"__launch_bounds__({limit}) ({locate(first)}): the launch fails"
            )
    return LaunchCheck(tuple(definitions), True, None, tuple(problems))


def kernel_parameters(site: LaunchSite, index: KernelIndex) -> list[str] | None:
    """The launched kernel's parameters as its definition writes them (`size_t numel`), for the SAFETY
    template; None when the kernel is not found or the members of its family differ."""
    if not site.kernel:
        return None
    definitions = index.host_functions.get(site.kernel, []) if site.form == "ffi" else family(site.kernel, index.kernels)
    written = {tuple(f"{p.type} {p.name}" if p.name else p.type for p in d.parameters) for d in definitions}
    if len(written) != 1:
        names = {tuple(p.name or "?" for p in d.parameters) for d in definitions}
        return list(names.pop()) if len(names) == 1 and definitions else None
    return list(written.pop())
