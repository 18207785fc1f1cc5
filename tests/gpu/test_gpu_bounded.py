"""The GPU runner is bounded: timeouts hold in wall time against any program, and a report that
cannot be trusted is never "no findings".

Runs use the labelled stand-in for compute-sanitizer (tests/gpu_standin/), which replays real reports.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gpu_workspace import REPORTS, make_workspace


def validate_cli(root: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "safety_ls", "validate", str(root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
    )


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_timeout_holds_against_a_program_that_ignores_sigterm_and_leaves_the_session(tmp_path: Path) -> None:
    log = tmp_path / "log"
    root = make_workspace(tmp_path / "ws", env={"SAFETY_LS_STANDIN_MODE": "escape", "SAFETY_LS_STANDIN_LOG": str(log)})
    started = time.monotonic()
    done = validate_cli(root, "--no-cache", "--timeout", "2")
    elapsed = time.monotonic() - started
    assert done.returncode == 2 and "did not finish within 2 s" in done.stderr
    # 2 s, the SIGTERM grace (3 s) and start-up; before, the escaped child held the pipe and the run hung.
    assert elapsed < 12, f"--timeout 2 took {elapsed:.1f} s"
    (escaped,) = [entry["escaped"] for entry in map(json.loads, log.read_text().splitlines()) if "escaped" in entry]
    deadline = time.monotonic() + 5
    while running(escaped) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(escaped), "the child that left the session still runs"


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_cli_timeout_must_be_positive_and_finite(tmp_path: Path, value: str) -> None:
    root = make_workspace(tmp_path / "ws")
    done = validate_cli(root, f"--timeout={value}")
    assert done.returncode == 2 and "positive, finite number of seconds" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_config_timeout_must_be_positive_and_finite(tmp_path: Path, value: str) -> None:
    root = make_workspace(tmp_path / "ws", timeout=value)
    done = validate_cli(root)
    assert done.returncode == 2 and "safety-ls.toml:" in done.stderr and "gpu.timeout" in done.stderr
    assert "Traceback" not in done.stderr


def test_error_exit_code_with_only_a_summary_is_an_error_not_clean(tmp_path: Path) -> None:
    summary_only = tmp_path / "summary_only.txt"
    summary_only.write_text("========= COMPUTE-SANITIZER\n========= ERROR SUMMARY: 5 errors\n")
    root = make_workspace(tmp_path / "ws", replay={"memcheck": summary_only})
    done = validate_cli(root, "--no-cache")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "exited with its error code (86) but no error record could be read" in done.stderr
    assert "No sanitizer findings" not in done.stdout


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "empty or not a compute-sanitizer report"),
        (b"segmentation fault (core dumped)\n\x00\xff garbage\n", "empty or not a compute-sanitizer report"),
        (b"========= COMPUTE-SANITIZER\n========= ERROR SUMMARY: 5 errors\n", "summary counts 5 error(s) but no record"),
    ],
)
def test_saved_reports_that_cannot_be_trusted_are_errors(tmp_path: Path, content: bytes, said: str) -> None:
    root = make_workspace(tmp_path / "ws")
    report = tmp_path / "memcheck.txt"
    report.write_bytes(content)
    done = validate_cli(root, "--report", str(report))
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert "No sanitizer findings" not in done.stdout


def test_a_truncated_saved_report_gives_its_findings_with_a_warning(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    text = (REPORTS / "memcheck_oob.txt").read_text()
    cut = tmp_path / "memcheck.txt"
    cut.write_text(text[: text.index("ERROR SUMMARY")])
    done = validate_cli(root, "--report", str(cut))
    assert done.returncode == 1, done.stderr
    assert "no ERROR SUMMARY line (cut off?)" in done.stderr


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"not gzip at all\n", "cannot read the report"),
        (gzip.compress((REPORTS / "memcheck_oob.txt").read_bytes())[:400], "cannot read the report"),
    ],
)
def test_damaged_or_mislabelled_gzip_is_a_message_not_a_traceback(tmp_path: Path, content: bytes, said: str) -> None:
    root = make_workspace(tmp_path / "ws")
    report = tmp_path / "memcheck.txt.gz"
    report.write_bytes(content)
    done = validate_cli(root, "--report", str(report))
    assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr


def test_a_gzip_bomb_is_read_up_to_the_cap_in_bounded_memory(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    bomb = tmp_path / "memcheck.txt.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as stream:
        stream.write((REPORTS / "memcheck_oob.txt").read_bytes())
        zeros = bytes(16 * 1024 * 1024)
        for _ in range(20):  # 320 MiB with no line break: one "line" larger than the cap
            stream.write(zeros)
    assert bomb.stat().st_size < 8 * 1024 * 1024
    done = subprocess.run(
        ["bash", "-c", 'ulimit -v 1500000; exec "$@"', "--", sys.executable, "-m", "safety_ls", "validate", str(root), "--report", str(bomb)],
        capture_output=True, text=True, timeout=300,
    )
    assert "MemoryError" not in done.stderr and "Traceback" not in done.stderr
    assert "only that much was read" in done.stderr
