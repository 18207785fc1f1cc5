#!/usr/bin/env python3
"""Generate snippets/safety-ls.code-snippets from the annotation templates in snippets/*.j2.

Each snippet is a template rendered with a representative context (names the
person must fill in are themselves `<placeholders>`), with every `<placeholder>`
turned into a tabstop `${n:<placeholder>}`. The file is in VS Code's
`*.code-snippets` format, which LuaSnip also loads
(`require("luasnip.loaders.from_vscode").load_standalone({ path = ... })`).

    python scripts/generate_snippets.py           # rewrite the committed file
    python scripts/generate_snippets.py --check   # exit 1 when it is out of date

tests/fixes/test_snippets.py keeps the committed file equal to this script's output.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from safety_ls.config.templates import Templates  # noqa: E402
from safety_ls.rules import ALL_RULES  # noqa: E402

OUTPUT = ROOT / "snippets" / "safety-ls.code-snippets"

# (snippet name, prefix, template, context, description)
Snippet = tuple[str, str, str, dict[str, Any], str]
WRITTEN_OUT: list[Snippet] = [
    ("SAFETY comment", "safety", "safety_block.j2", {"kind": "other"},
     "`// SAFETY:` comment for an unsafe block"),
    ("SAFETY: device allocation", "safety-alloc", "safety_device_allocation.j2",
     {"kind": "device allocation", "receiver": "<device>", "element": "f32", "count": "<count>"},
     "`// SAFETY:` for an uninitialized device allocation (`dev.alloc::<T>(n)`)"),
    ("SAFETY: kernel launch", "safety-launch", "safety_kernel_launch.j2",
     {"kind": "kernel launch", "kernel": "<kernel>", "arguments": []},
     "`// SAFETY:` for a kernel launch: parameters, buffer sizes, aliasing, launch dimensions, shared memory, synchronization"),
    ("SAFETY: FFI call", "safety-ffi", "safety_ffi_call.j2", {"kind": "FFI call", "function": "<function>"},
     "`// SAFETY:` for a call into a C library"),
    ("SAFETY: mmap", "safety-mmap", "safety_mmap.j2", {"kind": "mmap"},
     "`// SAFETY:` for a memory-mapped file"),
    ("SAFETY: raw pointer", "safety-ptr", "safety_raw_pointer.j2", {"kind": "raw pointer dereference"},
     "`// SAFETY:` for a raw pointer dereference"),
    ("SAFETY: transmute", "safety-transmute", "safety_transmute.j2", {"kind": "transmute"},
     "`// SAFETY:` for `std::mem::transmute`"),
    ("SAFETY: unsafe impl", "safety-impl", "safety_impl.j2", {"type": "<type>", "trait": "<trait>"},
     "`// SAFETY:` for an `unsafe impl` of an unsafe trait"),
    ("SAFETY: unsafe impl Send", "safety-send", "safety_send_sync.j2",
     {"type": "<type>", "trait": "Send", "fields": []},
     "`// SAFETY:` for `unsafe impl Send`"),
    ("SAFETY: unsafe impl Sync", "safety-sync", "safety_send_sync.j2",
     {"type": "<type>", "trait": "Sync", "fields": []},
     "`// SAFETY:` for `unsafe impl Sync`"),
    ("# Safety doc (unsafe fn)", "safety-doc", "safety_doc.j2", {"kind": "function", "ffi": False},
     "`/// # Safety` section with the mistral.rs subsections, for an unsafe fn"),
    ("# Safety doc (unsafe fn calling FFI)", "safety-doc-ffi", "safety_doc.j2", {"kind": "function", "ffi": True},
     "`/// # Safety` section with `## Library Guarantees`, for an unsafe fn that calls a C library"),
    ("# Safety doc (unsafe trait)", "safety-doc-trait", "safety_doc.j2", {"kind": "trait", "ffi": False},
     "`/// # Safety` section for an unsafe trait"),
    ("PROMOTE comment", "promote", "promote.j2", {"hint": None},
     "`// PROMOTE:` comment for a dtype promotion (`.to_dtype(DType::F32)`)"),
    ("CONTIGUOUS comment", "contiguous", "contiguous.j2", {"cause": None},
     "`// CONTIGUOUS:` comment for a layout copy before a matmul"),
    ("CAST comment", "cast", "cast.j2", {"conversions": [{"from": None, "to": "<to>"}]},
     "`// CAST: from → to, reason` comment for a numeric cast"),
    ("TRAIT_OBJECT comment", "trait-object", "trait_object.j2", {},
     "`// TRAIT_OBJECT:` comment for `dyn Trait` (grit profile)"),
    ("EXHAUSTIVE comment", "exhaustive", "exhaustive.j2", {},
     "`// EXHAUSTIVE:` comment for `#[allow(clippy::exhaustive_enums)]` (grit profile)"),
    ("BORROW comment", "borrow", "borrow.j2", {},
     "`// BORROW:` comment for an explicit borrow conversion (grit profile)"),
    ("INDEX comment", "index", "index.j2", {},
     "`// INDEX:` comment for a direct slice index (grit profile)"),
]



def _tag_snippets(written_out: list[Snippet]) -> list[Snippet]:
    """A snippet for every rule whose tag has its own template (`<tag>.j2`) and none above."""
    used = {template for _, _, template, _, _ in written_out}
    found: list[Snippet] = []
    for rule in ALL_RULES.values():
        template = f"{rule.tag.lower()}.j2" if rule.tag else ""
        if template and template not in used and (ROOT / "snippets" / template).is_file():
            used.add(template)
            found.append((f"{rule.tag} comment", rule.tag.lower().replace("_", "-"), template, {}, rule.summary))
    return found


SNIPPETS: list[Snippet] = WRITTEN_OUT + _tag_snippets(WRITTEN_OUT)

def placeholder_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) of each top-level `<placeholder>` in `line`.

    A placeholder opens with `<` followed by a lowercase letter, not right after
    a word character, `:` or `&` (so `Vec<u8>` and `alloc::<f32>` are code, not
    placeholders); it may contain nested brackets (`<reason, e.g. to_vec1::<f32>()>`).
    """
    spans = []
    index = 0
    while index < len(line):
        char = line[index]
        if (
            char == "<"
            and (index == 0 or not re.match(r"[\w:&]", line[index - 1]))
            and re.match(r"[a-z]", line[index + 1 : index + 2])
        ):
            depth, end = 0, index
            while end < len(line):
                if line[end] == "<":
                    depth += 1
                elif line[end] == ">":
                    depth -= 1
                    if depth == 0:
                        break
                end += 1
            if end < len(line):
                spans.append((index, end + 1))
                index = end + 1
                continue
        index += 1
    return spans


def _escape(text: str, inside_placeholder: bool) -> str:
    """Escape what the snippet grammar treats specially (`$`, `\\`, and `}` inside a placeholder)."""
    text = text.replace("\\", "\\\\").replace("$", "\\$")
    return text.replace("}", "\\}") if inside_placeholder else text


def to_snippet_body(lines: list[str]) -> list[str]:
    """The template's lines with each `<placeholder>` a numbered tabstop, in order, then `$0`.

    The tabstop's default keeps the angle brackets (`${1:<reason>}`): a snippet
    left unfilled is still reported by placeholder-annotation, instead of
    reading like a written justification.
    """
    body, number = [], 0
    for line in lines:
        out, position = [], 0
        for start, end in placeholder_spans(line):
            number += 1
            out.append(_escape(line[position:start], False))
            out.append(f"${{{number}:{_escape(line[start:end], True)}}}")
            position = end
        out.append(_escape(line[position:], False))
        body.append("".join(out))
    if body:
        body[-1] += "$0"
    return body


def expand_defaults(body: list[str]) -> list[str]:
    """A snippet body as inserted when every tabstop keeps its default (the inverse of to_snippet_body)."""
    text = "\n".join(body)
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in "\\$}":
            out.append(text[index + 1])
            index += 2
        elif char == "$" and text[index + 1 : index + 2] == "{":
            match = re.match(r"\$\{(\d+):", text[index:])
            assert match, f"unexpected snippet syntax at {text[index:index + 20]!r}"
            index += match.end()
            while text[index] != "}":
                if text[index] == "\\":
                    index += 1
                out.append(text[index])
                index += 1
            index += 1
        elif char == "$" and (match := re.match(r"\$(\d+)", text[index:])):
            index += match.end()
        else:
            out.append(char)
            index += 1
    return "".join(out).split("\n")


def generate() -> str:
    templates = Templates()
    snippets: dict[str, dict[str, Any]] = {}
    for name, prefix, template, context, description in SNIPPETS:
        snippets[name] = {
            "scope": "rust",
            "prefix": prefix,
            "body": to_snippet_body(templates.render(template, context)),
            "description": f"{description} (safety-ls template {template})",
        }
    return json.dumps(snippets, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed file is out of date")
    args = parser.parse_args()
    text = generate()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date; run scripts/generate_snippets.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(SNIPPETS)} snippets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
