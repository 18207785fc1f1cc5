"""ffi-signature-mismatch: a Rust `extern "C"` declaration that disagrees with its C/C++/CUDA definition.

Rust trusts the declaration; the compiled C function reads its arguments by
its own signature. A missing parameter, `f64` for `float` or `i32` for
`int64_t` is undefined behaviour that no sanitizer sees: the launcher reads a
register or stack slot that was never written. Definitions come from the
workspace's CUDA index (cuda_kernels.py); types are compared by ABI class
(abi_types.py), and a type either side does not know is never a mismatch.
"""

from __future__ import annotations

import re
from typing import Iterator

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding
from safety_ls.facts.abi_types import c_abi, incompatible, rust_abi
from safety_ls.facts.c_functions import CFunction
from safety_ls.facts.cuda_kernels import index_for, note_unresolved, where
from safety_ls.facts.rust_externs import ExternDeclaration, declarations_in
from safety_ls.rules import Rule

EXTERN_C = re.compile(rb'\bextern\s+"C')


def disagreements(declaration: ExternDeclaration, definition: CFunction) -> list[str]:
    """What in `definition` the declaration contradicts; empty when they can be the same function."""
    if len(declaration.parameters) != len(definition.parameters):
        return [f"{len(declaration.parameters)} parameter(s) declared, {len(definition.parameters)} defined"]
    found = []
    for position, ((pattern, rust_type), parameter) in enumerate(zip(declaration.parameters, definition.parameters), 1):
        rust, c = rust_abi(rust_type), c_abi(parameter.type)
        if incompatible(rust, c):
            name = f" `{parameter.name}`" if parameter.name else ""
            found.append(f"parameter {position}{name}: `{rust_type}` ({rust}) declared, `{parameter.type}` ({c}) defined")
    rust_return, c_return = rust_abi(declaration.return_type), c_abi(definition.return_type)
    if incompatible(rust_return, c_return):
        found.append(f"return: `{declaration.return_type}` ({rust_return}) declared, `{definition.return_type}` ({c_return}) defined")
    return found


def _mismatches(ctx: FileContext) -> Iterator[Finding]:
    declarations = [
        declaration
        for unit, block in ctx.sites("extern_block")
        if unit is ctx.unit
        for declaration in declarations_in(unit, block)
        if ctx.in_region(declaration.start)
    ]
    if not declarations:
        return
    index, root = index_for(ctx)
    for declaration in declarations:
        definitions = index.host_functions.get(declaration.name, [])
        # Several definitions (per platform, per #if branch): only a disagreement with all of them is one.
        if not definitions:
            note_unresolved(ctx, index, declaration.name)
        verdicts = [(definition, disagreements(declaration, definition)) for definition in definitions]
        if not verdicts or any(not problems for _, problems in verdicts):
            continue
        definition, problems = verdicts[0]
        yield Finding(
            "ffi-signature-mismatch",
            declaration.start,
            declaration.end,
            f"`{declaration.name}` does not match its definition at {where(definition, root)}: {'; '.join(problems)}",
            {"kind": "ffi declaration", "definition": where(definition, root)},
        )


RULES = [
    Rule(
        id="ffi-signature-mismatch",
        summary="a Rust extern \"C\" declaration that disagrees with its C/C++/CUDA definition in the workspace",
        explanation=(
            "Rust calls an `extern \"C\"` function exactly as its declaration says; the compiled C function reads "
            "its arguments by its own definition. When the workspace's `.cu`, `.cuh`, `.c`, `.cpp` or `.h` "
            "sources define the function (macros expanded, headers followed) with a different number of "
            "parameters, or a parameter or return type that cannot be the same ABI type (`f64` for `float`, "
            "`i32` for `int64_t`, a pointer for a 32-bit integer, `*const f32` for `const double*`), every call "
            "is undefined behaviour that compute-sanitizer cannot see. Signedness does not count, a 64-bit "
            "integer passes like a pointer, and a type either side does not know (a struct, a typedef not "
            "visible) is never a mismatch. Fix the declaration (or generate it with bindgen)."
        ),
        check=_mismatches,
        trigger=EXTERN_C,
        sites=("extern_block",),
        example=(
            '// kernels/norm.cu: extern "C" void launch_norm(const float* x, float* y, float eps, int n)\n'
            'extern "C" {\n    fn launch_norm(x: *const f32, y: *mut f32, eps: f64, n: i32); // f64 for float\n}'
        ),
    ),
]
