"""Running one command with a deadline, cancellation and bounded output.

The child gets its own process group, so a timeout or a cancel stops the
program the sanitizer started too (SIGTERM, then SIGKILL). Output is read on
a thread as it comes: sanitizer lines (`=========`) are kept up to a byte
budget, beyond which only summary lines are kept and the rest is counted; of
the program's own output only the last lines are kept. So a hung program, a
flood of output or a child that never closes its pipe cannot hang the caller.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from safety_ls.gpu.reports import PREFIX

MAX_REPORT_BYTES = 8 * 1024 * 1024
PROGRAM_TAIL_LINES = 200
MAX_LINE_BYTES = 64 * 1024
TERMINATE_GRACE = 3.0  # seconds between SIGTERM and SIGKILL
POLL_INTERVAL = 0.05
PR_SET_PDEATHSIG = 1


@dataclass
class ProcessResult:
    returncode: int | None  # None when it could not be started
    report_lines: list[str] = field(default_factory=list)
    program_lines: list[str] = field(default_factory=list)
    dropped_lines: int = 0  # sanitizer lines over the byte budget
    duration: float = 0.0
    timed_out: bool = False
    cancelled: bool = False
    start_error: str | None = None

    @property
    def output(self) -> str:
        return "\n".join(self.report_lines + self.program_lines) + "\n"


def _reader(stream, result: ProcessResult, on_line: Callable[[int], None] | None) -> None:
    kept_bytes = 0
    try:
        while raw := stream.readline(MAX_LINE_BYTES):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.startswith(PREFIX):
                result.program_lines.append(line)
                if len(result.program_lines) > PROGRAM_TAIL_LINES:
                    del result.program_lines[0]
                continue
            if kept_bytes + len(raw) <= MAX_REPORT_BYTES or "SUMMARY" in line:
                result.report_lines.append(line)
                kept_bytes += len(raw)
            else:
                result.dropped_lines += 1
            if on_line is not None:
                on_line(len(result.report_lines) + result.dropped_lines)
    except (OSError, ValueError):  # the pipe was closed under us after a timeout: what was read stands
        return


def _end_with_parent() -> None:
    """In the child: SIGTERM when the process that started it dies (a server killed mid-run)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen) -> None:
    for sent in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sent)
        except (ProcessLookupError, PermissionError):
            return
        try:
            process.wait(TERMINATE_GRACE)
            return
        except subprocess.TimeoutExpired:
            continue


def run_process(
    argv: tuple[str, ...] | list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    cancel: threading.Event | None = None,
    on_line: Callable[[int], None] | None = None,
) -> ProcessResult:
    """Run `argv` (never through a shell) until it exits, `timeout` seconds pass or `cancel` is set."""
    result = ProcessResult(returncode=None)
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_end_with_parent if sys.platform == "linux" else None,
        )
    except OSError as error:
        result.start_error = f"cannot run `{argv[0]}`: {error.strerror or error}"
        return result
    reader = threading.Thread(target=_reader, args=(process.stdout, result, on_line), daemon=True)
    reader.start()
    deadline = started + timeout
    while process.poll() is None:
        if cancel is not None and cancel.is_set():
            result.cancelled = True
            _stop(process)
            break
        if time.monotonic() >= deadline:
            result.timed_out = True
            _stop(process)
            break
        time.sleep(POLL_INTERVAL)
    # A grandchild that left the group may hold the pipe open: wait a little, not forever.
    reader.join(TERMINATE_GRACE)
    if process.stdout is not None and reader.is_alive():
        process.stdout.close()
    # Copies: a reader still alive must not change what the caller holds.
    return ProcessResult(
        returncode=process.poll(),
        report_lines=list(result.report_lines),
        program_lines=list(result.program_lines),
        dropped_lines=result.dropped_lines,
        duration=time.monotonic() - started,
        timed_out=result.timed_out,
        cancelled=result.cancelled,
    )
