"""A unified diff of a file before and after its fixes, in time that grows with the file.

difflib's matcher slows down quadratically where many lines are alike, and fixes write exactly
that: hundreds of identical `// SAFETY: <reason>` lines among the code (cudarc: half of the
21 s of `fix --diff`). Here lines that occur once in each version anchor the match, longest
increasing run first (the idea behind patience diff); the stretches between anchors are matched
the same way, and only a stretch with no such line left goes to difflib.
"""

from __future__ import annotations

import bisect
import difflib

# A run of equal lines: (start in the old lines, start in the new lines, length).
Block = tuple[int, int, int]
CONTEXT = 3  # unchanged lines shown around each change, as `diff -u` and git show


def lines_of(text: str) -> list[str]:
    """`text` split after each `\\n`, as patch tools count lines: a `\\r` (CRLF, or a lone one) stays in its line."""
    lines = text.split("\n")
    last = lines.pop()
    return [line + "\n" for line in lines] + ([last] if last else [])


def unified_diff(old: list[str], new: list[str], old_name: str, new_name: str) -> str:
    """The changes from `old` to `new` (`lines_of` two texts) in unified format; empty when equal."""
    hunks = _hunks(matching_blocks(old, new))
    if not hunks:
        return ""
    out = [f"--- {old_name}\n", f"+++ {new_name}\n"]
    for changes in hunks:
        first, last = changes[0], changes[-1]
        old_start, new_start = max(first[0] - CONTEXT, 0), max(first[2] - CONTEXT, 0)
        old_stop, new_stop = min(last[1] + CONTEXT, len(old)), min(last[3] + CONTEXT, len(new))
        out.append(f"@@ -{_range(old_start, old_stop)} +{_range(new_start, new_stop)} @@\n")
        position = old_start
        for old_from, old_to, new_from, new_to in changes:
            out.extend(_lines(" ", old, position, old_from))
            out.extend(_lines("-", old, old_from, old_to))
            out.extend(_lines("+", new, new_from, new_to))
            position = old_to
        out.extend(_lines(" ", old, position, old_stop))
    return "".join(out)


def _range(start: int, stop: int) -> str:
    # The unified format counts lines from 1, omits a length of 1, and names the line before an empty range.
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if length == 0 else start + 1},{length}"


def _lines(mark: str, lines: list[str], start: int, stop: int) -> list[str]:
    shown = [mark + line for line in lines[start:stop]]
    if shown and not shown[-1].endswith("\n"):
        shown[-1] += "\n\\ No newline at end of file\n"
    return shown


def _hunks(blocks: list[Block]) -> list[list[tuple[int, int, int, int]]]:
    """The changes between the equal blocks, (old from, old to, new from, new to), grouped into
    hunks: changes fewer than two contexts apart share one."""
    hunks: list[list[tuple[int, int, int, int]]] = []
    old_end = new_end = 0
    for old_start, new_start, length in blocks:
        if old_start > old_end or new_start > new_end:
            change = (old_end, old_start, new_end, new_start)
            if hunks and old_end - hunks[-1][-1][1] <= 2 * CONTEXT:
                hunks[-1].append(change)
            else:
                hunks.append([change])
        old_end, new_end = old_start + length, new_start + length
    return hunks


def matching_blocks(old: list[str], new: list[str]) -> list[Block]:
    """The runs of equal lines, in order, ending with the empty block (len(old), len(new), 0)."""
    found: list[Block] = []
    pending = [(0, len(old), 0, len(new))]
    while pending:
        old_from, old_to, new_from, new_to = pending.pop()
        while old_from < old_to and new_from < new_to and old[old_from] == new[new_from]:
            found.append((old_from, new_from, 1))
            old_from, new_from = old_from + 1, new_from + 1
        while old_from < old_to and new_from < new_to and old[old_to - 1] == new[new_to - 1]:
            old_to, new_to = old_to - 1, new_to - 1
            found.append((old_to, new_to, 1))
        if old_from == old_to or new_from == new_to:
            continue
        anchors = _unique_anchors(old, old_from, old_to, new, new_from, new_to)
        if not anchors:
            matcher = difflib.SequenceMatcher(None, old[old_from:old_to], new[new_from:new_to])
            found.extend((old_from + i, new_from + j, n) for i, j, n in matcher.get_matching_blocks() if n)
            continue
        for old_line, new_line in anchors:
            pending.append((old_from, old_line, new_from, new_line))
            found.append((old_line, new_line, 1))
            old_from, new_from = old_line + 1, new_line + 1
        pending.append((old_from, old_to, new_from, new_to))
    found.sort()
    merged: list[Block] = []
    for block in found:
        if merged and merged[-1][0] + merged[-1][2] == block[0] and merged[-1][1] + merged[-1][2] == block[1]:
            merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + block[2])
        else:
            merged.append(block)
    merged.append((len(old), len(new), 0))
    return merged


def _unique_anchors(
    old: list[str], old_from: int, old_to: int, new: list[str], new_from: int, new_to: int
) -> list[tuple[int, int]]:
    """Pairs (old index, new index) of lines found exactly once in each stretch: the longest run of
    them in the same order on both sides."""
    seen: dict[str, list[int]] = {}  # line -> [count in old, index in old, count in new, index in new]
    for index in range(old_from, old_to):
        entry = seen.setdefault(old[index], [0, 0, 0, 0])
        entry[0] += 1
        entry[1] = index
    for index in range(new_from, new_to):
        counted = seen.get(new[index])
        if counted is not None:
            counted[2] += 1
            counted[3] = index
    pairs = sorted((entry[1], entry[3]) for entry in seen.values() if entry[0] == 1 and entry[2] == 1)
    # Longest increasing run of new indexes (pairs are in old order): patience sorting.
    tails: list[int] = []  # smallest new index ending a run of each length
    ends: list[int] = []  # the pair ending that run
    previous: list[int] = [-1] * len(pairs)
    for position, (_, new_index) in enumerate(pairs):
        length = bisect.bisect_left(tails, new_index)
        previous[position] = ends[length - 1] if length else -1
        if length == len(tails):
            tails.append(new_index)
            ends.append(position)
        else:
            tails[length], ends[length] = new_index, position
    run: list[tuple[int, int]] = []
    position = ends[-1] if ends else -1
    while position != -1:
        run.append(pairs[position])
        position = previous[position]
    return run[::-1]
