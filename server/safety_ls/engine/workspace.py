"""Checking (or auditing) many files: cache look-ups here, work spread over the machine's cores.

The analysis (parser, rules, crate and CUDA indexes) is imported only once a file needs it, so a
run answered from the cache starts without loading any of it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, TypeVar

from safety_ls.core.crate_dirs import crate_dir_of, crate_stamp
from safety_ls.core.findings import FileResult
from safety_ls.core.settings import Settings
from safety_ls.engine.cache import ResultCache

# Below this many files to analyse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24


def _module_structure(path: str, cache: ResultCache) -> str | None:
    if path.endswith(".rs"):
        return cache.structure_digest(path, _structure_of)
    return cache.content_digest(Path(path))  # the manifest: any change may move the crate's roots


def _structure_of(data: bytes) -> str:
    # Imported here: only files whose stat changed since the last run are read.
    from safety_ls.core.crate import module_structure

    return module_structure(data)


def _crate_states(paths: list[Path], cache: ResultCache) -> tuple[dict[Path, str], dict[Path, str]]:
    """What each file's results depend on besides its own text: its place in its crate.

    Stored in the cache per crate and reused while the crate's files keep their module structure
    (a function body edited leaves it), so a cached run does not rebuild crate indexes.
    """
    by_crate: dict[Path | None, list[Path]] = {}
    for path in paths:
        by_crate.setdefault(crate_dir_of(path), []).append(path)
    states: dict[Path, str] = {}
    stamps: dict[Path, str] = {}
    for crate_dir, members in by_crate.items():
        if crate_dir is None:
            states.update((path, "no-crate") for path in members)
            continue
        stamps[crate_dir] = stamp = crate_stamp(crate_dir, lambda path: _module_structure(path, cache))
        stored = cache.crate_states(str(crate_dir), stamp)
        # Stored by absolute path: a file named on the command line is given relative.
        if not all(os.path.abspath(path) in stored for path in members):
            from safety_ls.core.crate import crate_index

            index = crate_index(crate_dir)
            stored = {**stored, **{os.path.abspath(path): index.state_of(path.resolve()) for path in members}}
            cache.store_crate_states(str(crate_dir), stamp, stored, index.to_json())
        states.update((path, stored[os.path.abspath(path)]) for path in members)
    return states, stamps


def _reuse_crate_indexes(paths: list[Path], stamps: dict[Path, str], cache: ResultCache) -> None:
    """Hand the analysis the stored index of each crate a file to analyse is in, so that checking
    one changed file does not read its whole crate again."""
    from safety_ls.core.crate import CrateIndex, use_stored_index

    for crate_dir in {crate_dir_of(path) for path in paths} - {None}:
        stored = cache.crate_index(str(crate_dir), stamps[crate_dir]) if crate_dir in stamps else None
        try:
            use_stored_index(crate_dir, CrateIndex.from_json(crate_dir, stored))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # none stored, or damaged: the analysis builds it


# Files of one crate go to a worker together, so that each crate's index is
# built by as few workers as possible; large crates are split to keep cores busy.
BATCH_FILES = 48


def _batches_by_crate(work: list[tuple[Path, str]], jobs: int) -> list[list[tuple[int, Path, str]]]:
    by_crate: dict[Path | None, list[tuple[int, Path, str]]] = {}
    for position, (path, display) in enumerate(work):
        by_crate.setdefault(crate_dir_of(path), []).append((position, path, display))
    # Smaller batches when there is little work: after an edit that changed a crate's modules, its
    # few dozen files (cudarc: 25, some of 10,000 lines) were one batch, and one core did them all.
    size = min(BATCH_FILES, max(1, -(-len(work) // (2 * jobs))))
    batches = []
    for members in by_crate.values():
        batches.extend(members[start : start + size] for start in range(0, len(members), size))
    # Largest first, so no worker is left with a big batch at the end.
    return sorted(batches, key=lambda batch: -sum(_size(path) for _, path, _ in batch))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# The functions found in each C/CUDA source, kept beside the results (facts/cuda_kernels.py).
CUDA_STORE = "cuda-functions.json"

T = TypeVar("T")
Progress = Callable[[int], None]  # told how many files are done so far
FileTask = Callable[[Path, str, Settings], T]  # (path, display name, settings) -> a file's result


def _run_batch(item: tuple[list[tuple[int, Path, str]], FileTask[T], Settings]) -> list[tuple[int, T]]:
    batch, task, settings = item
    return [(position, task(path, display, settings)) for position, path, display in batch]


def map_files(
    work: list[tuple[Path, str]], task: FileTask[T], settings: Settings, jobs: int | None = None, progress: Progress | None = None
) -> list[T]:
    """`task` over (path, display name) pairs, in the order given, spread over `jobs` processes.

    `task` must be a module-level function (it is sent to the workers by name).
    """
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(work) < PARALLEL_THRESHOLD:
        results = []
        for path, display in work:
            results.append(task(path, display, settings))
            if progress is not None:
                progress(len(results))
        return results
    # Imported here: a run of a few files (pre-commit) never starts a worker.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    batches = _batches_by_crate(work, jobs)
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    by_position: dict[int, T] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        pending = [pool.submit(_run_batch, (batch, task, settings)) for batch in batches]
        for finished in as_completed(pending):
            by_position.update(finished.result())
            if progress is not None:
                progress(len(by_position))
    return [by_position[position] for position in range(len(work))]


def _analyse(
    pending: list[tuple[int, Path, str, str | None]],
    settings: Settings,
    cache: ResultCache | None,
    jobs: int | None,
    progress: Progress | None,
    cached: int,
) -> list[FileResult]:
    """The files the cache could not answer, analysed (on every core when there are enough)."""
    from safety_ls.engine.analyze import check_path
    from safety_ls.facts import cuda_kernels

    if cache is not None and (store := cache.beside(CUDA_STORE)) is not None:
        cuda_kernels.keep_on_disk(store, cache.code_version)
    if (jobs or os.cpu_count() or 1) > 1 and len(pending) >= PARALLEL_THRESHOLD:
        cuda_kernels.prepare_indexes([path for _, path, _, _ in pending], jobs or os.cpu_count() or 1)
    counted = None if progress is None else (lambda analysed_so_far: progress(cached + analysed_so_far))
    return map_files([(path, display) for _, path, display, _ in pending], check_path, settings, jobs, counted)


def check_files(
    files: list[tuple[Path, str]],
    settings: Settings,
    cache: ResultCache | None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> list[FileResult]:
    """Results for (path, display name) pairs, in the order given; `progress` counts cache hits as done."""
    results: dict[int, FileResult] = {}
    pending: list[tuple[int, Path, str, str | None]] = []
    crate_states, crate_stamps = _crate_states([path for path, _ in files], cache) if cache is not None else ({}, {})
    for position, (path, display) in enumerate(files):
        key = None
        if cache is not None:
            digest = cache.content_digest(path)
            if digest is not None:
                key = cache.key(display, digest, crate_states[path])
                hit = cache.get(key)
                if hit is not None:
                    results[position] = hit
                    continue
        pending.append((position, path, display, key))
    if pending:
        if cache is not None:
            _reuse_crate_indexes([path for _, path, _, _ in pending], crate_stamps, cache)
        for (position, _, _, key), result in zip(pending, _analyse(pending, settings, cache, jobs, progress, len(results))):
            results[position] = result
            if cache is not None and key is not None:
                cache.put(key, result)
    if cache is not None:
        cache.save()  # the CUDA index saved its store when it was built
    return [results[position] for position in range(len(files))]
