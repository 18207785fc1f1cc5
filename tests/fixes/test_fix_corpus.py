"""Fixes on real code (Debian's crate sources, scripts/install-corpus.sh): they only add.

For a fixed sample of files: the fixed text differs from the original only by
inserted whole lines and rewritten allocation calls, parses with no more
ERROR nodes than before, and fixing it again changes nothing.
"""

from __future__ import annotations

import difflib
import random
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from safety_ls.config.templates import Templates
from safety_ls.core.crate import crate_index
from safety_ls.core.crate_dirs import crate_dir_of
from safety_ls.core.parsing import parse
from safety_ls.core.settings import Settings
from safety_ls.fixes.alloc_wrapper import WrapperPlan
from safety_ls.fixes.apply import FileLocation, fix_source

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE = 40
_INTERESTING = re.compile(rb"\bunsafe\b|\bas\s+[iuf](?:8|16|32|64|128|size)\b|to_dtype|contiguous")


def _corpus_files() -> list[Path]:
    done = subprocess.run([str(ROOT / "scripts/install-corpus.sh"), "--dirs"], capture_output=True, text=True)
    directories = [Path(line) for line in done.stdout.splitlines() if line.strip() and Path(line).is_dir()]
    files = sorted(path for directory in directories for path in directory.rglob("*.rs") if path.is_file())
    return files


def _sample() -> list[Path]:
    files = _corpus_files()
    candidates = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if len(data) < 200_000 and _INTERESTING.search(data):
            candidates.append(path)
    return sorted(random.Random(20240611).sample(candidates, min(SAMPLE, len(candidates))))


FILES = _sample()


def _errors(data: bytes) -> int:
    tree = parse(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)
    if not tree.root_node.has_error:
        return 0
    count, stack = 0, [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            count += 1
        if node.has_error:
            stack.extend(node.children)
    return count


def _fix(data: bytes, path: Path, settings: Settings) -> bytes:
    crate_dir = crate_dir_of(path)
    crate = crate_index(crate_dir) if crate_dir is not None else None
    location = FileLocation(path, crate_dir, WrapperPlan())
    outcome = fix_source(data, str(path), settings, Templates(), crate=crate, file=path.resolve(), location=location)
    return outcome.fixed


SETTINGS = {
    "default": Settings(),
    "structured": Settings(profile="structured"),
    "all-rules": replace(Settings(), select=frozenset({"ALL"})),
}


def _tag_written_into(before: list[str], after: list[str]) -> bool:
    """Each line of `after` is its line of `before` with one piece of text inserted after `//`."""
    if len(before) != len(after):
        return False
    for old_line, new_line in zip(before, after):
        prefix = len(old_line) - len(old_line.lstrip())
        comment = old_line.find("//")
        start = next((i for i, (a, b) in enumerate(zip(old_line, new_line)) if a != b), len(old_line))
        inserted = len(new_line) - len(old_line)
        if comment < prefix or start <= comment or inserted <= 0 or new_line[:start] + new_line[start + inserted :] != old_line:
            return False
    return True


@pytest.mark.skipif(not FILES, reason="the Debian crate corpus is not installed (scripts/install-corpus.sh)")
@pytest.mark.parametrize("profile", sorted(SETTINGS))
@pytest.mark.parametrize("path", FILES, ids=lambda path: "/".join(path.parts[-3:]))
def test_fix_only_adds(path: Path, profile: str) -> None:
    settings = SETTINGS[profile]
    original = path.read_bytes()
    fixed = _fix(original, path, settings)
    old = original.decode("utf-8").splitlines(keepends=True)
    new = fixed.decode("utf-8").splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        added = "".join(new[j1:j2])
        if tag == "insert":
            # Whole lines, and only comments, a `use`, or the wrapper function.
            for line in new[j1:j2]:
                stripped = line.strip()
                assert (
                    not stripped
                    or stripped.startswith("//")
                    or stripped.startswith("use ")
                    or "alloc_device_buffer" in added
                    or "alloc_stream_buffer" in added
                ), (tag, "".join(old[i1:i2]), added)
        elif tag == "replace" and _tag_written_into(old[i1:i2], new[j1:j2]):
            continue  # an untagged annotation got its tag: text inserted inside the comment
        else:
            assert tag == "replace" and re.search(r"\balloc_(?:device|stream)_buffer::<", added), (
                tag,
                "".join(old[i1:i2]),
                added,
            )
    assert _errors(fixed) <= _errors(original)
    assert _fix(fixed, path, settings) == fixed, "fixing again changed the text"
