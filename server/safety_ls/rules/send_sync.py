"""Documented `unsafe impl Send/Sync` whose justification does not hold up.

The check is about the reason, not the proof: it resolves the struct (in the
file or the crate), finds fields without synchronization (collections, cells,
`Rc`, raw pointers) and asks whether the comment covers them: a concrete
access discipline (written once, read-only, serialized by an invariant,
exclusive access), a library's thread-safety guarantee, or synchronization
that the caller provides. A comment that claims synchronization which none
of the fields has is flagged, as in the ROCmForge review's finding 7.
"""

from __future__ import annotations

import re
from typing import Iterator

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding
from safety_ls.core.tags import SAFETY
from safety_ls.core.triggers import UNSAFE_IMPL
from safety_ls.facts.safety_docs import doc_lines
from safety_ls.facts.threads import NOT_SEND, SYNCHRONIZED, unsynchronized_fields
from safety_ls.facts.unsafe_sites import impl_trait_name, paired_safety_comment
from safety_ls.rules import Rule

_CLAIMS_SYNCHRONIZATION = re.compile(r"synchroni[sz]|\bmutex|\block(s|ed|ing)?\b|rwlock|thread[- ]safe access", re.I)
_EXTERNAL = re.compile(
    r"extern(al|ally)|\bcallers?\b|wrapped in|outside (of )?this|must (be )?hold|held by|by the owner", re.I
)
_DISCIPLINE = re.compile(
    r"immutable|read[- ]only|never (mutated|written|modified|changed)|not (mutated|modified)"
    r"|no (concurrent|shared|simultaneous) (mutation|access|write)|(written|initiali[sz]ed|set) (exactly )?once"
    r"|write[- ]once|serializ|exclusive|single[- ]thread|only (one|a single) thread|thread[- ]local"
    r"|&mut self|no interior mutability|happens[- ]before|\bfence\b|publication|owned (solely )?by",
    re.I,
)
_LIBRARY_GUARANTEE = re.compile(r"thread[- ]safe|can be (used|called) (concurrently|from (multiple|any) threads?)", re.I)
_LIBRARY_SOURCE = re.compile(r"\bdoc(s|umentation|umented)?\b|\bv?\d+\.\d+|guarantee", re.I)
# The specific shapes real comments give a library's promise in: the handle may be used
# from several threads, or concurrent use is allowed. Naming the library is source enough.
_CONCURRENT_USE_ALLOWED = re.compile(
    r"(may|can) be (used|called|shared|accessed) (concurrently |safely )?from (multiple|several|many|any|other|different)"
    r"( host)? threads?"
    r"|concurrent (use|calls?|access)\b.{0,60}\b(is|are) (allowed|permitted|supported|safe)",
    re.I,
)
_NAMED_LIBRARY = re.compile(
    r"\b(cu[A-Z]\w*|cuda\w*|CUDA|NCCL|nccl\w*|HIP|hip[A-Z]\w*|roc[A-Z]\w*|MIOpen|oneDNN|MKL|OpenBLAS|Metal|cudarc)\b"
    r"|\b(allowed|permitted|guaranteed|documented|promised) by\s+[A-Z]\w*"
)


def _describe(fields: list[tuple[str, str]]) -> str:
    return ", ".join(f"`{name}: {declared}`" for name, declared in fields)


def _unjustified(ctx: FileContext) -> Iterator[Finding]:
    for unit, impl in ctx.sites("unsafe_impl"):
        trait_name, type_text = impl_trait_name(unit, impl)
        if trait_name not in ("Send", "Sync"):
            continue
        # The comment over the `unsafe impl Send` right before this `Sync` one is plainly meant for
        # both: clippy reports the second as undocumented (unless `send-sync-pair`), but its reason
        # is judged for `Sync` too (ROCmForge finding 7).
        annotation = ctx.annotation(unit, impl, SAFETY) or paired_safety_comment(ctx, unit, impl)
        if annotation is None:
            continue  # undocumented-unsafe-impl reports it
        type_name = re.split(r"[<\s]", type_text.split("::")[-1])[0]
        struct = ctx.struct(type_name)
        if struct is None:
            continue
        reason = annotation.reason
        owner = _struct_docs(ctx, type_name)
        justification = f"{reason} {owner}"
        exposed = unsynchronized_fields(struct.fields)
        if trait_name == "Send":
            # Sending moves the value: only fields that are !Send need a reason.
            exposed = [(name, declared) for name, declared in exposed if NOT_SEND.search(declared)]
        has_primitive = any(SYNCHRONIZED.search(declared) for _, declared in struct.fields)
        concrete = bool(_DISCIPLINE.search(justification) or _EXTERNAL.search(justification))
        library = bool(_LIBRARY_GUARANTEE.search(justification) and _LIBRARY_SOURCE.search(justification)) or bool(
            _CONCURRENT_USE_ALLOWED.search(justification)
            and (_NAMED_LIBRARY.search(justification) or _LIBRARY_SOURCE.search(justification))
        )
        start = unit.start(impl)
        span = (start, start + len("unsafe"))
        if _CLAIMS_SYNCHRONIZATION.search(reason) and not has_primitive and exposed and not concrete:
            yield Finding(
                "unjustified-send-sync",
                *span,
                f"SAFETY comment claims synchronization, but `{type_name}` has no Mutex, RwLock or atomic: "
                f"{_describe(exposed)} are accessed without one",
                {"trait": trait_name, "type": type_name, "fields": [name for name, _ in exposed]},
            )
            continue
        if exposed and not (concrete or library):
            yield Finding(
                "unjustified-send-sync",
                *span,
                f"SAFETY comment does not say why {'sending' if trait_name == 'Send' else 'sharing'} "
                f"{_describe(exposed)} across threads is sound "
                "(synchronization, an access discipline, or the library's documented guarantee)",
                {"trait": trait_name, "type": type_name, "fields": [name for name, _ in exposed]},
            )


def _struct_docs(ctx: FileContext, type_name: str) -> str:
    """The struct's own doc comment, which often carries the invariant the impl cites."""
    for unit, struct in ctx.sites("struct"):
        name = struct.child_by_field_name("name")
        if name is not None and unit.text(name) == type_name:
            return " ".join(doc_lines(unit, struct))
    return ""


RULES = [
    Rule(
        id="unjustified-send-sync",
        summary="documented `unsafe impl Send/Sync` whose reason does not cover the fields",
        explanation=(
            "A Sync impl for a struct holding a HashMap, Vec, Cell/RefCell, Rc or raw pointer needs "
            "a reason those fields are safe to share: a Mutex/RwLock/atomic, an access discipline "
            "(written once before other threads exist, read-only, exclusive), or the library's "
            "documented thread-safety guarantee with its version. A comment that claims "
            "synchronization the struct does not have is worse than none."
        ),
        check=_unjustified,
        sites=("unsafe_impl", "struct"),
        trigger=UNSAFE_IMPL,
        tag=SAFETY,
        example='struct Cache { entries: HashMap<String, Tensor> }\n// SAFETY: access is synchronized.   (nothing in `Cache` synchronizes `entries`)\nunsafe impl Sync for Cache {}',
    ),
]
