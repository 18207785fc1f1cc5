"""CUDA source held in Rust string literals for run-time compilation (NVRTC, `compile_ptx(SRC)`).

cudarc's examples and many crates write a kernel as `const SRC: &str = "extern
\\"C\\" __global__ void k(..) {..}"` and compile it at run time; such a literal
is indexed like a `.cu` file, its lines mapped to the lines of the Rust file.
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterator

from safety_ls.facts.cuda_preprocess import Preprocessed, preprocess

# A raw string `r#"..."#` (any number of #) or a plain string; either may hold the source.
_LITERAL = re.compile(rb'(?<![\w\'])(?:b?r(?P<hashes>#*)"(?P<raw>.*?)"(?P=hashes)|"(?P<plain>(?:[^"\\]|\\.)*)")', re.S)
_ESCAPE = re.compile(r"\\(?:\n\s*|.)", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", '"': '"', "'": "'", "\\": "\\"}


def _unescape(text: str) -> str:
    """A plain Rust string's value; a line continuation keeps its newline so lines stay aligned."""
    def replace(match: re.Match[str]) -> str:
        escaped = match.group(0)[1:]
        if escaped.startswith("\n"):
            return "\n" * escaped.count("\n")
        return _ESCAPES.get(escaped, match.group(0))
    return _ESCAPE.sub(replace, text)


def _kernel_literals(data: bytes) -> Iterator[tuple[int, bytes, bool]]:
    """Each string literal holding `__global__`: its first line, its body, whether it is raw."""
    if b"__global__" not in data:
        return
    for match in _LITERAL.finditer(data):
        raw, plain = match.group("raw"), match.group("plain")
        body = raw if raw is not None else plain
        if body is None or b"__global__" not in body:
            continue
        yield data.count(b"\n", 0, match.start("raw" if raw is not None else "plain")) + 1, body, raw is not None


def kernel_literals_digest(data: bytes) -> str:
    """Changes only when the kernel source a Rust file holds does (or moves): what the CUDA index
    reads from it. Most Rust files hold none."""
    return hashlib.blake2b(repr(list(_kernel_literals(data))).encode(), digest_size=16).hexdigest()


def cuda_in_rust(data: bytes, path: str) -> list[Preprocessed]:
    """Each string literal of a Rust file that holds a `__global__` kernel, preprocessed, lines in `path`."""
    units = []
    for first_line, body, raw in _kernel_literals(data):
        text = body.decode("utf-8", "replace")
        if not raw:
            text = _unescape(text)
        unit = preprocess(text.encode(), path)
        origins = tuple((path, line + first_line - 1) for _, line in unit.origins)
        units.append(Preprocessed(unit.text, origins, unit.warnings))
    return units
