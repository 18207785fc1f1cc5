"""A workspace for runner tests: the gpu_probe sources, a [gpu] config, and the labelled stand-in sanitizer.

The stand-in (tests/gpu_standin/compute-sanitizer-standin) replays reports
recorded from real compute-sanitizer runs; it is NOT a sanitizer. The real run
is tests/fixtures/gpu-run/ (tests/gpu/test_gpu_device_run.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

TESTS = Path(__file__).parent.parent
STANDIN = TESTS / "gpu_standin" / "compute-sanitizer-standin"
REPORTS = TESTS / "fixtures" / "compute-sanitizer"
PROBE = REPORTS / "gpu_probe"
RECORDED = {
    "memcheck": REPORTS / "memcheck_oob.txt",
    "initcheck": REPORTS / "initcheck_uninit.txt",
    "racecheck": REPORTS / "racecheck_race.txt",
}


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value)


def make_workspace(
    directory: Path,
    *,
    tools: tuple[str, ...] = ("memcheck",),
    env: dict[str, str] | None = None,
    replay: dict[str, Path] | None = None,
    **gpu: Any,
) -> Path:
    """The probe's sources in `directory` with a safety-ls.toml whose sanitizer is the stand-in."""
    shutil.copytree(PROBE, directory, dirs_exist_ok=True)
    environment = {f"SAFETY_LS_STANDIN_{tool.upper()}": str(path) for tool, path in (replay or RECORDED).items()}
    environment.update(env or {})
    settings = {"command": ["bin/gpu_probe", "oob"], "tools": list(tools), "sanitizer": str(STANDIN), "timeout": 30, **gpu}
    lines = ["[gpu]"] + [f"{key.replace('_', '-')} = {_toml(value)}" for key, value in settings.items()]
    lines += ["", "[gpu.env]"] + [f"{name} = {_toml(value)}" for name, value in environment.items()]
    (directory / "safety-ls.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory
