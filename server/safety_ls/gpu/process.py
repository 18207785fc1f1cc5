"""Running one command with a deadline, cancellation and bounded output.

The run owns its whole process tree. The child gets a session of its own, so a
timeout or a cancel stops the program the sanitizer started too (SIGTERM, then
SIGKILL to the group). A descendant can leave the session (`setsid`, a double
fork) and ignore SIGTERM; so this process becomes a child subreaper
(`PR_SET_CHILD_SUBREAPER`: orphans of the run are re-parented here, not to
init), every process of the run carries a token in its environment, and when
the run ends, by exit, timeout or cancel, a sweep of /proc kills whatever of it
is left. The deadline is wall time, whatever the program does. Output is read on
a thread as it comes: sanitizer lines (`=========`) are kept up to a byte
budget, beyond which only summary lines are kept and the rest is counted; of
the program's own output only the last lines are kept. So a hung program, a
flood of output or a child that never closes its pipe cannot hang the caller.
"""

from __future__ import annotations

import ctypes
import functools
import os
import secrets
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
CENSUS_INTERVAL = 0.5  # how often the run's process tree is listed while it runs
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
RUN_TOKEN = "SAFETY_LS_RUN_TOKEN"  # set in the run's environment; its descendants inherit it


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


@functools.cache
def _become_subreaper() -> bool:
    """Make orphans of our runs our children, so that the sweep finds them (Linux only)."""
    if sys.platform != "linux":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def _processes() -> dict[int, tuple[int, int, str]]:
    """Every visible process: pid -> (parent pid, session id, start time)."""
    found = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stream:
                fields = stream.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != b"Z":
            found[int(name)] = (int(fields[1]), int(fields[3]), fields[19].decode())
    return found


def _carries(pid: int, token: str) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as stream:
            return f"{RUN_TOKEN}={token}".encode() in stream.read().split(b"\0")
    except OSError:
        return False


class _ProcessTree:
    """The processes of one run: the child, its session, descendants, and orphans re-parented to us."""

    def __init__(self, leader: int, token: str) -> None:
        self.leader = leader
        self.token = token
        self.members: dict[int, str] = {}  # pid -> start time (a reused pid is not a member)

    def refresh(self) -> None:
        table = _processes()
        me = os.getpid()
        for pid, (parent, session, started) in table.items():
            if pid == me or pid in self.members:
                continue
            if session == self.leader or pid == self.leader or (parent == me and _carries(pid, self.token)):
                self.members[pid] = started
        # Descendants of members, however far they went (a new session included).
        grew = True
        while grew:
            grew = False
            for pid, (parent, _, started) in table.items():
                if pid not in self.members and parent in self.members and pid != me:
                    self.members[pid] = started
                    grew = True
        self.members = {pid: started for pid, started in self.members.items() if table.get(pid, (0, 0, ""))[2] == started}

    def kill(self) -> None:
        """SIGKILL every member still running; reap those that were re-parented to us."""
        for _ in range(3):  # a member may fork while being killed: look again
            self.refresh()
            if not self.members:
                return
            for pid in self.members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    continue
            self._reap()

    def _reap(self) -> None:
        """Collect the exit status of killed members that are our children, so none stays a zombie."""
        deadline = time.monotonic() + 1.0
        for pid in self.members:
            if pid == self.leader:
                continue  # Popen reaps its own child
            while time.monotonic() < deadline:
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    break  # not our child: its own parent or init reaps it
                if done:
                    break
                time.sleep(0.01)


def _stop(process: subprocess.Popen, tree: _ProcessTree) -> None:
    """SIGTERM to the session's group, a short grace, then SIGKILL to every process of the run."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(TERMINATE_GRACE)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    tree.kill()
    try:
        process.wait(TERMINATE_GRACE)
    except subprocess.TimeoutExpired:
        pass


def run_process(
    argv: tuple[str, ...] | list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    cancel: threading.Event | None = None,
    on_line: Callable[[int], None] | None = None,
) -> ProcessResult:
    """Run `argv` (never through a shell) until it exits, `timeout` seconds pass or `cancel` is set.

    Whatever the run started is gone when this returns.
    """
    if not (timeout > 0 and timeout != float("inf")):
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    result = ProcessResult(returncode=None)
    started = time.monotonic()
    token = secrets.token_hex(8)
    _become_subreaper()
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env={**env, RUN_TOKEN: token},
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
    tree = _ProcessTree(process.pid, token)
    deadline = started + timeout
    next_census = started
    while process.poll() is None:
        now = time.monotonic()
        if cancel is not None and cancel.is_set():
            result.cancelled = True
            break
        if now >= deadline:
            result.timed_out = True
            break
        if now >= next_census:  # know the tree while it is alive, so orphans are recognised later
            tree.refresh()
            next_census = now + CENSUS_INTERVAL
        time.sleep(POLL_INTERVAL)
    if result.cancelled or result.timed_out:
        _stop(process, tree)
    else:
        tree.kill()  # the program exited: what it left running goes too
    # A process that escaped even the sweep may hold the pipe open: wait a little, not forever.
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
