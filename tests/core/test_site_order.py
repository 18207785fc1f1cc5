"""Output does not depend on the interpreter's hash seed or memory layout.

A `bitflags!`-style macro whose body tree-sitter recovers from with dozens of nested index
expressions starting at one byte (as in nix's src/net/if_.rs): which of them was reported
used to follow tree-sitter's capture order, which varied between runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_cli
from safety_ls.core.parsing import captures, parse, query


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



def _structs_with_one_name_twice(others: int) -> str:
    lines = ["use std::cell::Cell;"]
    lines += [f"pub struct S{number}(u8);" for number in range(others)]
    lines += ["pub struct Shared(Cell<u8>);", "pub struct Shared(std::rc::Rc<u8>);"]
    lines += [f"pub struct T{number}(u8);" for number in range(others)]
    return "\n".join(lines + ["unsafe impl Send for Shared {}", ""])


def test_query_captures_come_in_document_order_whatever_the_memory_layout() -> None:
    tree = parse(_structs_with_one_name_twice(30).encode())
    allocated = []
    for round in range(20):
        allocated.append([object() for _ in range(round * 300)])  # another memory layout each round
        starts = [node.start_byte for node in captures(query("(struct_item) @struct"), tree.root_node)["struct"]]
        assert starts == sorted(starts)


def test_a_name_defined_twice_means_the_first_struct(tmp_path: Path) -> None:
    # Half-typed code (a duplicated line) defines a struct twice: the Send template lists the
    # fields of the first definition (it used to follow the query cursor's order).
    (tmp_path / "lib.rs").write_text(_structs_with_one_name_twice(30))
    done = run_cli("fix", "--diff", "lib.rs", cwd=tmp_path)
    assert "`0: Cell<u8>`" in done.stdout and "Rc<u8>" not in done.stdout
