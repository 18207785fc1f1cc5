"""The real `safety-ls` command line in a subprocess, as a user's shell runs it.

Colour variables are removed so output is the same in a terminal and in CI; output is decoded as
UTF-8 without newline translation, so CRLF in what the tool prints stays visible to the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_cli(
    *args: str | Path,
    cwd: Path,
    stdin: str | bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    environment.update(env or {})
    data = stdin.encode() if isinstance(stdin, str) else stdin
    completed = subprocess.run(
        [sys.executable, "-m", "safety_ls", *map(str, args)],
        cwd=cwd,
        input=data,
        capture_output=True,
        env=environment,
        timeout=timeout,
    )
    return subprocess.CompletedProcess(
        completed.args, completed.returncode, completed.stdout.decode("utf-8"), completed.stderr.decode("utf-8")
    )


def run_driver(driver: str, *args: str, cwd: Path, timeout: float = 120) -> Any:
    """`driver` (Python source that runs the real `main` with `args` in a fresh interpreter, having
    hooked what a test watches) and the JSON it reports on its last line of stderr."""
    done = subprocess.run([sys.executable, "-c", driver, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return json.loads(done.stderr.strip().splitlines()[-1])
