"""The Rust type of a launch argument, where the function around the launch writes it down.

`&out` where `let out: CudaSlice<f64> = ..`, `dev.alloc_zeros::<f64>(n)`,
`stream.htod_copy(vec![0f64; n])` or `clone_htod(&[1.0f32, ..])`; `n` where
`n: usize` is a parameter or `let n = 3usize`; `x as i32`; a suffixed literal.
Only the text before the launch in the same function is read; anything else
is None (unknown), which no check treats as a mismatch.
"""

from __future__ import annotations

import re
from functools import lru_cache

_LITERAL = re.compile(r"^-?[0-9][0-9_]*(?:\.[0-9_]+)?(?:e-?[0-9]+)?_?(?P<type>[iu](?:8|16|32|64|size)|f32|f64)$")
_CAST = re.compile(r"\bas\s+(?P<type>[iu](?:8|16|32|64|size)|f32|f64)\s*$")
_WRAPPERS = re.compile(r"^(?:&\s*(?:mut\s+)?|\*\s*)+|(?:\.(?:clone|as_ref|as_mut)\(\))+$")
_ALLOCATION = r"(?:alloc_zeros|alloc|null)\s*::\s*<\s*(?P<element>\w+)\s*>"
_COPY = r"(?:htod_copy|htod_sync_copy|clone_htod|memcpy_stod)\s*\(\s*&?\s*(?:vec!)?\s*\[\s*(?P<literal>[-0-9.e_]+[a-z0-9]*)"


# Remembered per name: launches pass the same few names (`src`, `dst`, `numel`) many times, and five
# patterns compiled for each argument of each launch outgrew `re`'s own cache on candle.
@lru_cache(maxsize=4096)
def _binding_patterns(name: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    word = re.escape(name)
    return (
        (re.compile(rf"\blet\s+(?:mut\s+)?{word}\s*:\s*(?P<type>[^=;]+?)\s*="), "type"),
        (re.compile(rf"\blet\s+(?:mut\s+)?{word}\s*=[^;]*?{_ALLOCATION}"), "element"),
        (re.compile(rf"\blet\s+(?:mut\s+)?{word}\s*=[^;]*?{_COPY}"), "copied"),
        (re.compile(rf"\blet\s+(?:mut\s+)?{word}\s*=\s*(?P<literal>[-0-9.e_]+[a-z0-9]*)\s*;"), "literal"),
        (re.compile(rf"[(,]\s*(?:mut\s+)?{word}\s*:\s*(?P<type>[^,(){{}}]+?)\s*[,)]"), "type"),
    )


def _literal_type(text: str) -> str | None:
    match = _LITERAL.match(text.strip())
    return match.group("type") if match else None


def _bound_type(kind: str, match: re.Match[str]) -> str | None:
    if kind == "type":
        return _WRAPPERS.sub("", match.group("type").strip()).strip()
    if kind == "element":
        return f"CudaSlice<{match.group('element')}>"
    element = _literal_type(match.group("literal"))
    if kind == "copied":  # a host array copied to the device: a buffer of its literal's type
        return f"CudaSlice<{element}>" if element else None
    return element


def argument_type(argument: str, before: str) -> str | None:
    """The Rust type of the value `argument` passes (a `&` dropped: the kernel gets the value), or None.

    `before` is the function's text up to the launch.
    """
    text = _WRAPPERS.sub("", argument.strip()).strip()
    if cast := _CAST.search(text):
        return cast.group("type")
    if literal := _literal_type(text):
        return literal
    if not re.fullmatch(r"[A-Za-z_]\w*", text):
        return None
    latest: tuple[int, str] | None = None
    for pattern, kind in _binding_patterns(text):
        for match in pattern.finditer(before):
            found = _bound_type(kind, match)
            if found and (latest is None or match.start() > latest[0]):
                latest = (match.start(), found)
    return latest[1] if latest is not None else None
