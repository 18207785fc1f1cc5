"""fixes/diff.py: the unified diff `fix --diff` prints, checked by applying it with git."""

from __future__ import annotations

import difflib
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from safety_ls.fixes.diff import lines_of, matching_blocks, unified_diff

TEMPLATE = "    // SAFETY: <reason>\n"


def _edited(rng: random.Random) -> tuple[list[str], list[str]]:
    """A text of few distinct lines (so that many repeat) and that text edited as fixes and hands do."""
    vocabulary = [f"    let v{k} = unsafe {{ *p.add({k}) }};\n" for k in range(rng.randint(1, 8))] + ["}\n", "\n"]
    old = [rng.choice(vocabulary) for _ in range(rng.randint(0, 60))]
    new = list(old)
    for _ in range(rng.randint(0, 12)):
        position = rng.randint(0, len(new))
        action = rng.random()
        if action < 0.6:
            new.insert(position, rng.choice([TEMPLATE, *vocabulary]))
        elif new and action < 0.8:
            del new[min(position, len(new) - 1)]
        elif new:
            new[min(position, len(new) - 1)] = "    // CAST: u64 → u32, <reason>\n"
    for lines in (old, new):  # sometimes no line break at the end of the file
        if rng.random() < 0.2 and lines and lines[-1] != "\n":
            lines[-1] = lines[-1].rstrip("\n")
    return old, new


def test_the_diff_applied_by_git_gives_the_new_text(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    rng = random.Random(16)
    for case in range(120):
        old, new = _edited(rng)
        diff = unified_diff(old, new, "a/f.rs", "b/f.rs")
        assert (diff == "") == (old == new)
        if not diff:
            continue
        target = tmp_path / str(case)
        target.mkdir()
        (target / "f.rs").write_text("".join(old))
        (target / "change.diff").write_text(diff)
        done = subprocess.run(["git", "apply", "change.diff"], cwd=target, capture_output=True, text=True)
        assert done.returncode == 0, f"case {case}: {done.stderr}\n{diff}"
        assert (target / "f.rs").read_text() == "".join(new), f"case {case}"


def test_crlf_and_lone_carriage_returns_stay_inside_their_lines(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    old = "fn f() {\r\n    let a = 1;\r\n    let b = 'x\r';\r\n}\r\n"
    new = "fn f() {\r\n    // SAFETY: <reason>\r\n    let a = 1;\r\n    let b = 'x\r';\r\n}\r\n"
    assert lines_of(old)[2] == "    let b = 'x\r';\r\n"
    (tmp_path / "f.rs").write_bytes(old.encode())
    (tmp_path / "change.diff").write_bytes(unified_diff(lines_of(old), lines_of(new), "a/f.rs", "b/f.rs").encode())
    done = subprocess.run(["git", "apply", "change.diff"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "f.rs").read_bytes() == new.encode()


def test_an_unambiguous_change_reads_as_diff_u_writes_it() -> None:
    old = [f"line {k}\n" for k in range(20)]
    new = old[:5] + [TEMPLATE] + old[5:12] + ["changed\n"] + old[13:]
    assert unified_diff(old, new, "a/f.rs", "b/f.rs") == "".join(difflib.unified_diff(old, new, "a/f.rs", "b/f.rs"))


def test_a_missing_line_break_at_the_end_is_marked() -> None:
    diff = unified_diff(["a\n", "b"], ["a\n", "c"], "a/f", "b/f")
    assert diff.endswith("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n")


def test_thousands_of_identical_inserted_lines_are_matched_around_the_code() -> None:
    # Each code line occurs once: all of them anchor, and the inserted templates are the only change.
    old = [f"    let t{k} = x.to_dtype(DType::F32)?;\n" for k in range(4000)]
    new = [line for code in old for line in (TEMPLATE, code)]
    blocks = matching_blocks(old, new)
    assert sum(length for _, _, length in blocks) == len(old)
    assert unified_diff(old, new, "a/f.rs", "b/f.rs").count("\n+" + TEMPLATE) == 4000
