"""Kernel launches: the SAFETY comment must address the launch invariants; arguments must fit the kernel.

The invariants are those rust-cuda's safety chapter puts on the caller of a
kernel: the parameters match in number and type, buffers are large enough,
references do not alias a written pointer, the launch dimensions fit the
kernel (and its `__launch_bounds__`), and dynamic shared memory covers what the
kernel uses. Launch sites come from facts/launches.py, kernel signatures from the
workspace's `.cu`/`.cuh` files (facts/cuda_kernels.py).
"""

from __future__ import annotations

import re
import weakref
from typing import Any, Iterator

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding
from safety_ls.core.fix_requests import CommentInsertion
from safety_ls.core.parsing import SyntaxUnit
from safety_ls.core.placement import Annotation
from safety_ls.core.tags import SAFETY
from safety_ls.facts.categories import SAFETY_BLOCK_TEMPLATES
from safety_ls.facts.cuda_kernels import (
    analysed_file,
    index_for,
    note_unresolved,
    where,
)
from safety_ls.facts.launch_checks import check_launch, kernel_parameters
from safety_ls.facts.launches import LAUNCH_TRIGGER, LaunchSite, find_launches
from safety_ls.rules import Rule

LAUNCH_TEMPLATE = SAFETY_BLOCK_TEMPLATES["kernel launch"]
# What a launch comment must speak to, and words that show it does.
INVARIANTS: dict[str, re.Pattern[str]] = {
    "parameters": re.compile(r"param|argument|\bargs?\b|signature", re.I),
    "buffer sizes": re.compile(
        r"\bsized?\b|\bsizes\b|\blen\b|\blength|large enough|big enough|\bholds?\b|capacity|\belements?\b|"
        r"(?:out of|in|within)[ -]bounds",
        re.I,
    ),
    "aliasing": re.compile(r"alias|overlap|distinct|disjoint|exclusive|separate|\bunique|same (?:buffer|pointer|allocation|memory)", re.I),
    "launch dimensions": re.compile(r"\bgrid|\bblocks?\b|\bthreads?\b|dimension|launch[_ ]bounds|\bdims?\b|block_dim", re.I),
    "dynamic shared memory": re.compile(r"shared|smem", re.I),
}


# Both rules read the same sites: found once per analysed file (the unit dies with the analysis).
_found: "weakref.WeakKeyDictionary[SyntaxUnit, tuple[Any, list[LaunchSite]]]" = weakref.WeakKeyDictionary()


def launch_sites(ctx: FileContext) -> list[LaunchSite]:
    key = (ctx.settings.launch_patterns, ctx.region)
    cached = _found.get(ctx.unit)
    if cached is None or cached[0] != key:
        cached = (key, find_launches(ctx.unit, ctx.settings.launch_patterns, ctx.region))
        _found[ctx.unit] = cached
    return cached[1]


def required_invariants(site: LaunchSite) -> list[str]:
    required = ["parameters", "buffer sizes", "aliasing", "launch dimensions"]
    if site.shared_memory is not None and site.shared_memory_bytes != 0:
        required.append("dynamic shared memory")
    return required


def missing_invariants(reason: str, site: LaunchSite) -> list[str]:
    return [name for name in required_invariants(site) if not INVARIANTS[name].search(reason)]


def template_context(ctx: FileContext, site: LaunchSite) -> dict[str, Any]:
    """What the launch template is filled with: the kernel, the call's arguments and, when the kernel is
    found, its parameters as its definition names them."""
    index, _ = index_for(ctx) if site.kernel else (None, None)
    parameters = kernel_parameters(site, index) if index is not None else None
    return {"kind": "kernel launch", "kernel": site.kernel, "arguments": list(site.arguments or ()), "parameters": parameters}


def _describe(site: LaunchSite) -> str:
    return f"this launch of `{site.kernel}`" if site.kernel else "this kernel launch"


def _completion_fix(ctx: FileContext, annotation: Annotation, missing: list[str], site: LaunchSite) -> CommentInsertion:
    """Insert the missing invariants' lines after the comment run that holds the SAFETY tag."""
    source = ctx.source
    last = annotation.line
    while last + 1 < source.line_count and source.line_bytes(last + 1).strip().startswith(b"//"):
        last += 1
    indent_line = last if last > annotation.line else min(last + 1, source.line_count - 1)
    raw = source.line_text(indent_line)
    if last == annotation.line and not source.line_bytes(last).strip().startswith(b"//"):
        raw = source.line_text(min(last + 1, source.line_count - 1))  # `unsafe { // SAFETY: ..`: the body's indent
    indent = raw[: len(raw) - len(raw.lstrip())]
    offset = source.line_bounds(last + 1)[0] if last + 1 < source.line_count else len(source.data)
    return CommentInsertion(
        offset,
        indent,
        SAFETY,
        LAUNCH_TEMPLATE,
        {**template_context(ctx, site), "missing": missing},
        title="Complete the launch's `// SAFETY:` comment",
    )


def _launch_comments(ctx: FileContext) -> Iterator[Finding]:
    for site in launch_sites(ctx):
        if site.unsafe_block is not None:
            unit, annotated = site.unsafe_block
        else:  # the body of an `unsafe fn`: the launch statement carries the comment
            unit, annotated = site.unit, site.node
        annotation = ctx.annotation(unit, annotated, SAFETY)
        if annotation is None:
            if site.unsafe_block is not None:
                continue  # undocumented-unsafe-block reports it, with this template
            yield Finding(
                "kernel-launch",
                site.start,
                site.end,
                f"{_describe(site).capitalize()} in an `unsafe fn` has no `// SAFETY:` comment on its launch invariants",
                {"kind": "kernel launch"},
                ctx.comment_fix(unit, annotated, SAFETY, LAUNCH_TEMPLATE, template_context(ctx, site)),
            )
            continue
        missing = missing_invariants(annotation.reason, site)
        if missing:
            yield Finding(
                "kernel-launch",
                site.start,
                site.end,
                f"the SAFETY comment of {_describe(site)} does not address: {', '.join(missing)}",
                {"kind": "kernel launch", "missing": missing},
                _completion_fix(ctx, annotation, missing, site),
            )


def _mismatches(ctx: FileContext) -> Iterator[Finding]:
    sites = [site for site in launch_sites(ctx) if site.kernel]
    if not sites:
        return
    index, root = index_for(ctx)
    for site in sites:
        check = check_launch(site, index, lambda definition: where(definition, root), analysed_file(ctx))
        if not check.definitions and site.kernel:
            note_unresolved(ctx, index, site.kernel)
        for problem in check.problems:
            yield Finding(
                "kernel-launch-mismatch",
                site.start,
                site.end,
                problem,
                {"kind": "kernel launch", "kernel": check.definitions[0].name},
            )


RULES = [
    Rule(
        id="kernel-launch",
        summary="a kernel launch whose SAFETY comment does not address the launch invariants",
        explanation=(
            "Launching a kernel is unsafe because nothing checks the call against the kernel: the caller must "
            "make sure the arguments match the kernel's parameters in number, type and layout, every buffer is "
            "large enough for what the grid reads and writes, no `&T` argument aliases a pointer the kernel "
            "writes, the grid and block fit the kernel's indexing and `__launch_bounds__`, and dynamic shared "
            "memory covers what the kernel uses (rust-cuda's kernel launch invariants). The SAFETY comment of "
            "the launch must speak to each; the fix adds a line for each one missing. The code lens "
            "'Validate on GPU' runs the program under compute-sanitizer to check the claims."
        ),
        check=_launch_comments,
        fixable=True,
        trigger=LAUNCH_TRIGGER,
        tag=SAFETY,
        sites=("unsafe_block",),
        example='// SAFETY: the buffers are valid.   (says nothing of sizes, aliasing, grid and block)\nunsafe { func.launch(cfg, (&out, &input, n)) }?;',
    ),
    Rule(
        id="kernel-launch-mismatch",
        summary="launch arguments that contradict the kernel in the workspace's CUDA sources (count, types, launch bounds)",
        explanation=(
            "The launch contradicts the `extern \"C\" __global__` kernel it names in the workspace's CUDA "
            "sources, read as the compiler sees them (macros expanded, headers followed, CUDA held in Rust "
            "strings for NVRTC included): a different number of arguments (undefined behavior: the kernel "
            "reads parameters that were never passed, and compute-sanitizer cannot see it), an argument whose "
            "Rust type cannot be the parameter's C type (`CudaSlice<f64>` for `const float*`, `usize` for "
            "`int`), or a literal block size over the kernel's `__launch_bounds__` (the launch fails). A name "
            "built from a stem (`kernel_name::<T>(\"affine\")`, `format!(\"affine_{}\", ..)`) stands for "
            "every `affine_<dtype>` kernel and is checked when they agree. Calls through an FFI launcher are "
            "compared with the launcher's C definition. Unknown types are never a mismatch."
        ),
        check=_mismatches,
        trigger=LAUNCH_TRIGGER,
        sites=("unsafe_block",),
        example='// kernels/add.cu: extern "C" __global__ void add(float* out, const float* a, const float* b, int n)\nunsafe { add.launch(cfg, (&out, &a, n)) }?; // 3 arguments for 4 parameters',
    ),
]
