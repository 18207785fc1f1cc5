"""Output does not depend on the interpreter's hash seed or memory layout.

A `bitflags!`-style macro whose body tree-sitter recovers from with dozens of nested index
expressions starting at one byte (as in nix's src/net/if_.rs): which of them was reported
used to follow tree-sitter's capture order, which varied between runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_cli


def _flags_macro(entries: int) -> str:
    lines = ["libc_bitflags!(", "    pub struct InterfaceFlags: IflagsType {"]
    for number in range(entries):
        lines += [
            f"        /// Flag {number}.",
            '        #[cfg(any(target_os = "illumos", target_os = "solaris"))]',
            "        #[cfg_attr(docsrs, doc(cfg(all())))]",
            f"        IFF_F{number}" + (" as libc::c_int;" if number % 3 == 0 else ";"),
        ]
    return "\n".join(lines + ["    }", ");", ""])


def test_findings_in_recovered_macro_fragments_are_the_same_for_every_hash_seed(tmp_path: Path) -> None:
    (tmp_path / "flags.rs").write_text(_flags_macro(60))
    outputs = {
        seed: run_cli(
            "check", "--no-cache", "--select", "missing-index", "--format", "json", "flags.rs",
            cwd=tmp_path, env={"PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    assert len(set(outputs.values())) == 1, "the output changed with PYTHONHASHSEED"
    diagnostics = json.loads(outputs[1])["diagnostics"]
    assert diagnostics, "the fragment's index expressions are reported"
    starts = [(d["line"], d["column"]) for d in diagnostics]
    assert len(starts) == len(set(starts)), "one finding per site start"
