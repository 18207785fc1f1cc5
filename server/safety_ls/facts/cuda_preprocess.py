"""C preprocessing of one CUDA/C source as the compiler would see it, with lines mapped back.

pcpp (a C99 preprocessor in pure Python) expands `#define` macros, so a kernel
written as `UNARY_OP(float, uneg_f32, ..)` appears as the function it expands
to, and follows `#include "header"` within the source's directory and the
workspace's include directories. System headers (`<cuda_fp16.h>`) are not
there: their `#include` is passed through. A condition on an unknown macro
(`#if __CUDA_ARCH__ >= 800`) is passed through too, keeping every branch, so
kernels compiled only for some architectures are still indexed. Whatever goes
wrong (`#error`, a missing header, a crash inside pcpp) becomes a warning: the
text that was produced is still used.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

from safety_ls.facts.c_bodies import without_bodies

# Headers of the CUDA/HIP toolkits, often included with quotes: their absence is expected.
_TOOLKIT_HEADERS = ("cuda", "cub", "cublas", "cufft", "curand", "cusparse", "cutlass", "cute", "nv", "mma", "hip",
                    "thrust", "cooperative_groups", "crt/", "device_", "sm_", "vector_", "math")
_CPLUSPLUS_SUFFIXES = (".cu", ".cuh", ".cpp", ".cc", ".cxx", ".hpp")
_LINE_DIRECTIVE = re.compile(r'^#line (\d+) "([^"]*)"')


@dataclass(frozen=True)
class Preprocessed:
    text: str  # the expanded translation unit; `#line` directives stay in it (the C grammar reads them)
    origins: tuple[tuple[str, int], ...]  # for each line of `text`: (file, 1-based line) it came from
    warnings: tuple[str, ...] = field(default=())

    def origin(self, line: int) -> tuple[str, int]:
        """The file and line a 0-based line of `text` came from."""
        return self.origins[min(line, len(self.origins) - 1)] if self.origins else ("", line + 1)


@lru_cache(maxsize=1)
def _preprocessor_class() -> type:
    """pcpp's preprocessor with our hooks; pcpp is imported on first use (start-up stays fast)."""
    from pcpp import Action, OutputDirective, Preprocessor

    # The token class of ply as pcpp loads it (its own copy, imported as `ply`).
    from pcpp.parser import LexToken

    if "__copy__" not in vars(LexToken) and not hasattr(LexToken, "__slots__"):
        # pcpp copies a token (`copy.copy`) for every one a macro expands to: 190,000 on mistral.rs,
        # through the generic `__reduce_ex__` path. A token is a plain object, so copying its
        # attributes is the same copy, and preprocessing mistral.rs's sources takes 20% less CPU.
        LexToken.__copy__ = _copy_token

    class _Preprocessor(Preprocessor):  # type: ignore[misc,valid-type]
        def __init__(self, source_name: str, follow: Callable[[str], bool]) -> None:
            super().__init__()
            self.follow = follow
            self.line_directive = "#line"
            self.source_name = source_name
            self.problems: list[str] = []

        def on_file_open(self, is_system_include, includepath):  # type: ignore[no-untyped-def]
            if os.path.isfile(includepath) and not self.follow(includepath):
                return io.StringIO("")  # a header that defines nothing linkable: read as empty
            with super().on_file_open(is_system_include, includepath) as header:
                return io.StringIO(_signatures_only(header.read()))

        def on_include_not_found(self, is_malformed, is_system_include, curdir, includepath):  # type: ignore[no-untyped-def]
            if not is_system_include and not includepath.startswith(_TOOLKIT_HEADERS):
                self.problems.append(f"{self.source_name}: header {includepath!r} not found in the workspace")
            raise OutputDirective(Action.IgnoreAndPassThrough)

        def on_error(self, file, line, msg):  # type: ignore[no-untyped-def]
            self.problems.append(f"{file}:{line}: {msg}")
            self.return_code += 1

        def on_directive_unknown(self, directive, toks, ifpassthru, precedingtoks):  # type: ignore[no-untyped-def]
            if directive.value == "error":
                self.problems.append(f"{self.source_name}:{directive.lineno}: #error")
                return True  # dropped: the rest of the file is still read
            return super().on_directive_unknown(directive, toks, ifpassthru, precedingtoks)

        # A condition on a macro defined by the compiler (`__CUDA_ARCH__`) is kept with all its branches.
        def on_unknown_macro_in_defined_expr(self, tok):  # type: ignore[no-untyped-def]
            return None

        def on_unknown_macro_in_expr(self, ident):  # type: ignore[no-untyped-def]
            return None

        def on_unknown_macro_function_in_expr(self, ident):  # type: ignore[no-untyped-def]
            return None

        def on_comment(self, tok):  # type: ignore[no-untyped-def]
            return False  # comments dropped: `extern "C"` in a comment is no declaration

    return _Preprocessor


def _copy_token(token: object) -> object:
    copied = object.__new__(type(token))
    copied.__dict__.update(token.__dict__)
    return copied


def _every_header(path: str) -> bool:
    return True


def preprocess(
    data: bytes, path: str, include_dirs: tuple[Path, ...] = (), follow: Callable[[str], bool] = _every_header
) -> Preprocessed:
    """`data` (the text of `path`) preprocessed, following the includes `follow` accepts; never raises."""
    text = data.decode("utf-8", "replace")
    preprocessor = _preprocessor_class()(path, follow)
    if path.endswith(_CPLUSPLUS_SUFFIXES):
        # nvcc and C++ compilers define it: `#ifdef __cplusplus / extern "C" { / #endif` then opens
        # one block, instead of leaving both branches' unbalanced braces to the C grammar.
        preprocessor.define("__cplusplus 201703L")
    for directory in (Path(path).parent, *include_dirs):
        preprocessor.add_path(str(directory))
    output = io.StringIO()
    try:
        preprocessor.parse(_signatures_only(text), path)
        preprocessor.write(output)
    except Exception as error:  # pcpp raises assorted errors on malformed input; the file is then read as written
        return Preprocessed(text, tuple((path, n + 1) for n in range(text.count("\n") + 1)), (f"{path}: not preprocessed ({error})",))
    expanded = output.getvalue()
    return Preprocessed(expanded, _origins(expanded, path), tuple(preprocessor.problems))


@lru_cache(maxsize=256)
def _signatures_only(text: str) -> str:
    """What the index reads of a source: bodies emptied where that is certain (c_bodies.py).

    Remembered by text: a header is included by many sources (mistral.rs: one of 170 KB by 8).
    """
    emptied = without_bodies(text)
    return text if emptied is None else emptied


def _origins(text: str, path: str) -> tuple[tuple[str, int], ...]:
    origins: list[tuple[str, int]] = []
    current_file, next_line = path, 1
    for line in text.split("\n"):
        directive = _LINE_DIRECTIVE.match(line)
        origins.append((current_file, next_line))
        if directive:  # pcpp writes paths relative to the working directory
            current_file, next_line = os.path.abspath(directive.group(2)), int(directive.group(1))
        else:
            next_line += 1
    return tuple(origins)
