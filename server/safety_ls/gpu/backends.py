"""The command line of one sanitizer run: locally, over ssh to a GPU host, or through srun.

Always an argv list; nothing is run through a local shell. ssh hands the remote
side one command line, which its login shell splits: every word of it is
quoted with `shlex.quote`, so a path with spaces or `;` stays one argument,
and the remote run is bounded by coreutils' `timeout` as well as the local one.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from safety_ls.core.settings import GpuSettings

# compute-sanitizer exits 0 even when it reports errors unless told otherwise (DESIGN.md).
ERROR_EXITCODE = 86
PRINT_LIMIT = 200
# Seconds the remote `timeout` waits after SIGTERM before SIGKILL.
REMOTE_KILL_AFTER = 5


@dataclass(frozen=True)
class Invocation:
    argv: tuple[str, ...]
    env: dict[str, str]  # the environment of the local process
    cwd: Path
    xml_path: Path | None  # where `--save` writes the XML report, when read from a local file


def sanitizer_arguments(sanitizer: str, tool: str, xml_path: str | None = None) -> list[str]:
    arguments = [
        sanitizer,
        "--tool", tool,
        "--error-exitcode", str(ERROR_EXITCODE),
        "--print-limit", str(PRINT_LIMIT),
        "--show-backtrace", "yes",
    ]
    if xml_path is not None:
        arguments += ["--xml", "--save", xml_path]  # `--xml` takes no value and needs `--save`
    return arguments


def build_invocation(gpu: GpuSettings, tool: str, root: Path, scratch: Path) -> Invocation:
    """What to run for `tool` under `gpu`'s backend; `scratch` is a local directory for the XML report."""
    if gpu.backend == "ssh":
        if not gpu.host:
            raise ValueError("[gpu] backend = \"ssh\" needs `host` (a name from ~/.ssh/config, or user@host)")
        words = sanitizer_arguments(gpu.sanitizer, tool) + list(gpu.command)
        environment = [f"{name}={value}" for name, value in sorted(gpu.env.items())]
        remote = ["timeout", "-k", str(REMOTE_KILL_AFTER), f"{gpu.timeout:g}", "env", *environment, *words]
        line = " ".join(shlex.quote(word) for word in remote)
        if gpu.remote_dir:
            line = f"cd {shlex.quote(gpu.remote_dir)} && exec {line}"
        argv = ("ssh", "-o", "BatchMode=yes", *gpu.ssh_args, "--", gpu.host, line)
        return Invocation(argv, dict(os.environ), root, None)
    environment = {**os.environ, **gpu.env}
    if gpu.backend == "srun":
        # srun exports the caller's environment to the job step (`--export=ALL` is its default).
        argv = ("srun", *gpu.srun_args, *sanitizer_arguments(gpu.sanitizer, tool), *gpu.command)
        return Invocation(argv, environment, root, None)
    xml_path = scratch / f"{tool}.xml" if gpu.xml else None
    argv = (*sanitizer_arguments(gpu.sanitizer, tool, str(xml_path) if xml_path else None), *gpu.command)
    return Invocation(argv, environment, root, xml_path)
