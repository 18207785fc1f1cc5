"""`gpu-sanitizer-error`: compute-sanitizer findings placed at the launch that caused them.

The GPU validation runner (safety_ls.gpu) produces these, on demand, from a
run of the program or a saved report; reading source text never does. The
rule is registered so that its id works in config, suppressions and SARIF.
"""

from __future__ import annotations

from typing import Iterator

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding, Severity
from safety_ls.rules import Rule

GPU_SANITIZER_ERROR = "gpu-sanitizer-error"


def _from_runner_only(ctx: FileContext) -> Iterator[Finding]:
    return iter(())


RULES = [
    Rule(
        id=GPU_SANITIZER_ERROR,
        summary="a compute-sanitizer finding mapped to a kernel launch",
        explanation=(
            "Running the program under compute-sanitizer (`safety-ls validate`, or the 'Validate on GPU' lens) "
            "found a memory error (memcheck: out-of-bounds or misaligned access), a read of uninitialized "
            "device memory (initcheck), a shared-memory data race (racecheck) or a barrier misuse (synccheck). "
            "It is shown at the launch whose host backtrace it carries or, for racecheck, which has no "
            "backtrace, at the launches of the kernel it names. Whatever the launch's SAFETY comment claims, "
            "the kernel did this on the GPU."
        ),
        check=_from_runner_only,
        default_severity=Severity.ERROR,
        profiles=frozenset(),
        example='unsafe { builder.launch(cfg) }?; // memcheck: Invalid __global__ write of size 4 in `vector_add`',
    ),
]
