"""Build large, valid Rust files out of real crate sources, for bench/lsp_latency.py.

Real files from the Debian corpus (scripts/install-corpus.sh; /usr/share/cargo/registry)
are concatenated, each wrapped in `mod m_N { ... }` so the result stays one valid
Rust file. Nothing is committed: the files are written into a directory you name.

    python bench/make_lsp_corpus.py OUT_DIR      writes medium.rs, large.rs and mem/*.rs, prints counts
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import tree_sitter_rust
from tree_sitter import Language, Parser

REGISTRY = Path("/usr/share/cargo/registry")

# (crate name, path inside the crate). The crate's version is whatever is installed.
MEDIUM = [  # ~6,000 lines, > 100 unsafe blocks, > 100 casts
    ("nix", "src/sys/socket/addr.rs"),
    ("hashbrown", "src/raw/mod.rs"),
    ("nix", "src/sys/stat.rs"),
]
LARGE = [  # ~11,000 lines, > 100 unsafe blocks, > 100 casts (no file in common with MEDIUM)
    ("nix", "src/sys/socket/mod.rs"),
    ("bytes", "src/bytes_mut.rs"),
    ("crossbeam-epoch", "src/atomic.rs"),
    ("tokio", "src/sync/oneshot.rs"),
    ("bytes", "src/bytes.rs"),
    ("nix", "src/sys/termios.rs"),
    ("tokio", "src/util/linked_list.rs"),
    ("tokio", "src/util/idle_notified_set.rs"),
]
# Crates scanned for the memory test's 50 files of 1,000-3,000 lines.
MEMORY_CRATES = [
    "tokio", "nix", "libc", "hashbrown", "bytes", "crossbeam-epoch", "crossbeam-utils", "crossbeam-channel",
    "rayon", "rayon-core", "serde_json", "indexmap", "aho-corasick", "memchr", "mio", "smallvec", "bumpalo",
    "arrayvec", "parking_lot", "parking_lot_core", "lock_api", "socket2", "num-traits", "half", "once_cell",
]

_PARSER = Parser(Language(tree_sitter_rust.language()))


@dataclass
class Stats:
    lines: int
    unsafe_blocks: int
    casts: int
    errors: int  # ERROR / MISSING nodes in the tree-sitter parse (0: parses cleanly)


def crate_dir(name: str) -> Path:
    """The installed version of a crate (highest version if several)."""
    found = sorted(d for d in REGISTRY.glob(f"{name}-*") if d.is_dir() and d.name[len(name) + 1 :][:1].isdigit())
    if not found:
        sys.exit(f"crate {name!r} is not installed under {REGISTRY}: run scripts/install-corpus.sh")
    return found[-1]


def stats(data: bytes) -> Stats:
    tree = _PARSER.parse(data)
    unsafe_blocks = casts = errors = 0
    cursor = tree.walk()
    visited_children = False
    while True:
        if not visited_children:
            node = cursor.node
            if node.type == "unsafe_block":
                unsafe_blocks += 1
            elif node.type == "type_cast_expression":
                casts += 1
            if node.is_error or node.is_missing:
                errors += 1
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited_children = False
            continue
        if not cursor.goto_parent():
            break
        visited_children = True
    return Stats(data.count(b"\n") + 1, unsafe_blocks, casts, errors)


def concatenate(parts: list[tuple[str, str]]) -> tuple[bytes, list[str]]:
    chunks, sources = [], []
    for index, (crate, rel) in enumerate(parts):
        path = crate_dir(crate) / rel
        text = path.read_bytes().rstrip(b"\n")
        chunks.append(b"// from %s\nmod m_%d {\n%s\n}\n" % (str(path).encode(), index, text))
        sources.append(str(path))
    return b"\n".join(chunks), sources


def memory_files(count: int = 50, low: int = 1000, high: int = 3000) -> list[Path]:
    """`count` distinct corpus files of low..high lines (deterministic order)."""
    found: list[Path] = []
    for name in MEMORY_CRATES:
        try:
            directory = crate_dir(name)
        except SystemExit:
            continue
        for path in sorted(directory.rglob("*.rs")):
            lines = path.read_bytes().count(b"\n")
            if low <= lines <= high:
                found.append(path)
    if len(found) < count:
        sys.exit(f"only {len(found)} corpus files of {low}-{high} lines")
    # Spread over the crates rather than taking the first crate's files only.
    step = len(found) / count
    return [found[int(i * step)] for i in range(count)]


def build(out: Path) -> dict[str, tuple[Path, Stats, list[str]]]:
    out.mkdir(parents=True, exist_ok=True)
    made = {}
    for name, parts in (("medium", MEDIUM), ("large", LARGE)):
        data, sources = concatenate(parts)
        target = out / f"{name}.rs"
        target.write_bytes(data)
        made[name] = (target, stats(data), sources)
    mem = out / "mem"
    mem.mkdir(exist_ok=True)
    for index, path in enumerate(memory_files()):
        crate = path.relative_to(REGISTRY).parts[0]
        (mem / f"f{index:02d}_{crate}_{path.stem}.rs").write_bytes(path.read_bytes())
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    for path, s, sources in build(args.out).values():
        print(f"{path}: {s.lines} lines, {s.unsafe_blocks} unsafe blocks, {s.casts} casts, {s.errors} parse errors")
        for source in sources:
            print(f"    {source}")
    mem = sorted((args.out / "mem").glob("*.rs"))
    total = sum(p.read_bytes().count(b"\n") for p in mem)
    print(f"{args.out / 'mem'}: {len(mem)} files, {total} lines")


if __name__ == "__main__":
    main()
