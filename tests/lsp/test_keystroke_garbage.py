"""Garbage a keystroke leaves is collected after its diagnostics are sent, not inside the next keystroke."""

from __future__ import annotations

import gc
import weakref

from safety_ls.lsp.language_server import collect_young_garbage


class _Node:
    pass


def test_a_keystrokes_cyclic_garbage_is_collected_once_it_is_published():
    cycle = _Node()
    cycle.self = cycle  # type: ignore[attr-defined]
    alive = weakref.ref(cycle)
    del cycle
    collect_young_garbage()
    assert alive() is None
    assert gc.get_count()[0] < gc.get_threshold()[0] // 10  # the next keystroke starts with a fresh allowance


def test_the_older_generation_is_collected_when_the_next_young_collection_would_reach_it():
    threshold = gc.get_threshold()[1]
    for _ in range(threshold + 1):
        collect_young_garbage()
        assert gc.get_count()[1] < threshold
