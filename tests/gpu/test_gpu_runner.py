"""The GPU runner's process handling, against a clearly labelled stand-in for compute-sanitizer.

CI has no GPU, so these runs use tests/gpu_standin/compute-sanitizer-standin,
which replays reports recorded from real compute-sanitizer runs and checks the
command line it is given; it is not a sanitizer. The real run on an H100 is
recorded in tests/fixtures/gpu-run/ (tests/gpu/test_gpu_device_run.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from gpu_workspace import REPORTS, make_workspace
from safety_ls.config.loader import load_settings
from safety_ls.core.settings import GpuSettings
from safety_ls.gpu.backends import build_invocation
from safety_ls.gpu.runner import NotConfigured, map_validation, validate


def run(root: Path, **kwargs):
    settings = load_settings(root)
    validation = validate(root, settings, **kwargs)
    mapped = map_validation(validation, settings, lambda p: p.relative_to(root.resolve()).as_posix())
    lines = sorted((d.line, d.message.split(":")[0]) for items in mapped.diagnostics.values() for d in items)
    return validation, mapped, lines


def logged(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_every_tool_runs_with_error_exitcode_and_findings_land_on_launch_lines(tmp_path: Path):
    log = tmp_path / "argv.log"
    root = make_workspace(tmp_path / "ws", tools=("memcheck", "racecheck", "initcheck"), env={"SAFETY_LS_STANDIN_LOG": str(log)})
    validation, mapped, lines = run(root)
    assert validation.problems == [] and validation.notes == []
    assert [(r.tool, r.returncode, r.cached) for r in validation.runs] == [
        ("memcheck", 86, False),
        ("racecheck", 86, False),
        ("initcheck", 86, False),
    ]
    assert lines == [(129, "memcheck"), (152, "initcheck"), (175, "racecheck"), (175, "racecheck")]
    calls = logged(log)
    assert [call["argv"][call["argv"].index("--tool") + 1] for call in calls] == ["memcheck", "racecheck", "initcheck"]
    for call in calls:
        assert call["argv"][call["argv"].index("--error-exitcode") + 1] == "86"
        assert call["argv"][-2:] == ["bin/gpu_probe", "oob"] and Path(call["cwd"]) == root.resolve()


def test_clean_run(tmp_path: Path):
    root = make_workspace(tmp_path, replay={"memcheck": REPORTS / "memcheck_ok.txt"})
    validation, mapped, lines = run(root)
    assert (validation.runs[0].returncode, lines, validation.problems, mapped.unmapped) == (0, [], [], {})


def test_xml_mode_saves_the_report_to_a_file_and_reads_it(tmp_path: Path):
    log = tmp_path / "argv.log"
    env = {"SAFETY_LS_STANDIN_LOG": str(log), "SAFETY_LS_STANDIN_XML_MEMCHECK": str(REPORTS / "memcheck_oob.xml")}
    root = make_workspace(tmp_path / "ws", env=env, xml=True)
    validation, mapped, lines = run(root)
    argv = logged(log)[0]["argv"]
    assert argv[argv.index("--xml") + 1] == "--save" and argv[argv.index("--save") + 1].endswith("memcheck.xml")
    assert lines == [(129, "memcheck")]
    (diagnostic,) = next(iter(mapped.diagnostics.values()))
    assert "is out of bounds in `vector_add` (3 records printed; the run reported 1025 in all)" in diagnostic.message


def test_timeout_stops_the_program_and_everything_it_started(tmp_path: Path):
    log = tmp_path / "argv.log"
    root = make_workspace(tmp_path / "ws", tools=("memcheck", "racecheck"), timeout=1, env={"SAFETY_LS_STANDIN_MODE": "hang", "SAFETY_LS_STANDIN_LOG": str(log)})
    started = time.monotonic()
    validation, _, lines = run(root)
    assert time.monotonic() - started < 8
    assert validation.problems == ["memcheck: the run did not finish within 1 s and was stopped; raise [gpu] timeout"]
    assert len(validation.runs) == 1 and validation.runs[0].timed_out and lines == []
    (pids,) = [entry["pids"] for entry in logged(log) if "pids" in entry]
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids), "a process of the timed-out run is still running"


def test_cancel_from_another_thread_stops_the_run(tmp_path: Path):
    root = make_workspace(tmp_path, timeout=120, env={"SAFETY_LS_STANDIN_MODE": "hang"})
    cancel = threading.Event()
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(result=run(root, cancel=cancel)))
    worker.start()
    time.sleep(0.5)
    cancel.set()
    worker.join(10)
    assert not worker.is_alive()
    validation, _, _ = outcome["result"]
    assert validation.cancelled and validation.problems == ["validation was cancelled"]


def test_program_failing_without_findings_is_an_error(tmp_path: Path):
    root = make_workspace(tmp_path, replay={"memcheck": REPORTS / "memcheck_ok.txt"}, env={"SAFETY_LS_STANDIN_MODE": "exit:5"})
    validation, _, _ = run(root)
    assert validation.problems == ["memcheck: the program exited with code 5 and no sanitizer finding (done: ok)"]


def test_no_gpu_is_said_once_and_stops_the_other_tools(tmp_path: Path):
    root = make_workspace(tmp_path, tools=("memcheck", "racecheck"), env={"SAFETY_LS_STANDIN_MODE": "no-gpu"})
    validation, _, _ = run(root)
    assert validation.problems == ["memcheck: no usable GPU: gpu-crate: no usable GPU: cuInit failed with CUresult 100"]
    assert len(validation.runs) == 1


@pytest.mark.parametrize(
    ("sanitizer", "said"),
    [("/opt/nowhere/compute-sanitizer", "relative to"), ("compute-sanitizer-not-installed", "on PATH")],
)
def test_missing_sanitizer_is_a_clear_message(tmp_path: Path, sanitizer: str, said: str):
    root = make_workspace(tmp_path, sanitizer=sanitizer)
    validation, _, _ = run(root)
    (problem,) = validation.problems
    assert problem.startswith(f"compute-sanitizer was not found (looked for `{sanitizer}`") and said in problem
    assert validation.runs == []


def test_huge_report_is_read_up_to_its_budget(tmp_path: Path):
    root = make_workspace(tmp_path, env={"SAFETY_LS_STANDIN_MODE": "flood"})
    started = time.monotonic()
    validation, mapped, _ = run(root)
    assert time.monotonic() - started < 30
    (run_,) = validation.runs
    assert run_.dropped_lines > 0 and len(run_.output) <= 9 * 1024 * 1024
    assert validation.notes[0].startswith("memcheck: the report was over 8 MiB")
    assert run_.report().reported == 200000  # the summary line is kept past the budget
    assert sum(mapped.unmapped.values()) == len(run_.report().errors)


def test_results_are_cached_by_content(tmp_path: Path):
    log = tmp_path / "argv.log"
    root = make_workspace(tmp_path / "ws", env={"SAFETY_LS_STANDIN_LOG": str(log)})
    (root / "bin").mkdir()
    (root / "bin" / "gpu_probe").write_bytes(b"\x7fELF first build")
    first, _, first_lines = run(root)
    second, _, second_lines = run(root)
    assert [r.cached for r in first.runs] == [False] and [r.cached for r in second.runs] == [True]
    assert first_lines == second_lines == [(129, "memcheck")] and len(logged(log)) == 1
    (root / "bin" / "gpu_probe").write_bytes(b"\x7fELF second build")
    assert [r.cached for r in run(root)[0].runs] == [False]
    main = root / "src" / "main.rs"
    main.write_text(main.read_text() + "\n// edited\n")
    assert [r.cached for r in run(root)[0].runs] == [False]
    assert [r.cached for r in run(root, use_cache=False)[0].runs] == [False]
    assert len(logged(log)) == 4


def test_progress_names_each_tool(tmp_path: Path):
    root = make_workspace(tmp_path, tools=("memcheck", "initcheck"))
    seen = []
    run(root, progress=lambda message, percentage: seen.append((message, percentage)))
    assert ("memcheck: running (1/2)", 0) in seen and ("initcheck: running (2/2)", 50) in seen


def test_unconfigured_workspace_is_told_how_to_configure(tmp_path: Path):
    (tmp_path / "safety-ls.toml").write_text("[gpu]\ntools = [\"memcheck\"]\n")
    with pytest.raises(NotConfigured, match=r"add a \[gpu\] table with `command = \[...\]`"):
        validate(tmp_path, load_settings(tmp_path))


# --- the command line each backend runs (argv composition; the ssh run itself is test_gpu_ssh.py) ---


def test_ssh_command_quotes_every_word_for_the_remote_shell(tmp_path: Path):
    gpu = GpuSettings(
        command=("bin/my probe", "--mode", "a;b"),
        backend="ssh",
        host="gpu01",
        remote_dir="/srv/work dir",
        env={"CUDA_VISIBLE_DEVICES": "1"},
        ssh_args=("-p", "2222"),
        timeout=60,
    )
    invocation = build_invocation(gpu, "racecheck", tmp_path, tmp_path)
    assert invocation.argv[:7] == ("ssh", "-o", "BatchMode=yes", "-p", "2222", "--", "gpu01")
    assert invocation.argv[7] == (
        "cd '/srv/work dir' && exec timeout -k 5 60 env CUDA_VISIBLE_DEVICES=1 compute-sanitizer --tool racecheck "
        "--error-exitcode 86 --print-limit 200 --show-backtrace yes 'bin/my probe' --mode 'a;b'"
    )
    assert invocation.xml_path is None  # reports come back as text over the connection


def test_srun_command_and_environment(tmp_path: Path):
    gpu = GpuSettings(command=("./bench",), backend="srun", srun_args=("--gres=gpu:1", "-p", "gpu"), env={"X": "1"})
    invocation = build_invocation(gpu, "memcheck", tmp_path, tmp_path)
    assert invocation.argv == (
        "srun", "--gres=gpu:1", "-p", "gpu", "compute-sanitizer", "--tool", "memcheck",
        "--error-exitcode", "86", "--print-limit", "200", "--show-backtrace", "yes", "./bench",
    )
    assert invocation.env["X"] == "1" and invocation.cwd == tmp_path


# --- safety-ls validate, end to end with the stand-in ---------------------------------------------


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "safety_ls", "validate", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_cli_exit_codes_and_messages(tmp_path: Path):
    findings = cli(make_workspace(tmp_path / "a", tools=("memcheck", "racecheck")), "--format", "json")
    assert findings.returncode == 1 and len(json.loads(findings.stdout)["diagnostics"]) == 3
    assert "safety-ls: memcheck: exit 86, 1025 error(s)" in findings.stderr
    clean = cli(make_workspace(tmp_path / "b", replay={"memcheck": REPORTS / "memcheck_ok.txt"}))
    assert (clean.returncode, clean.stdout) == (0, "No sanitizer findings.\n")
    hung = cli(make_workspace(tmp_path / "c", env={"SAFETY_LS_STANDIN_MODE": "hang"}), "--timeout", "1")
    assert hung.returncode == 2 and "did not finish within 1 s" in hung.stderr
    (tmp_path / "d").mkdir()
    unconfigured = cli(tmp_path / "d")
    assert unconfigured.returncode == 2 and "GPU validation is not configured" in unconfigured.stderr


def test_cli_saves_raw_reports(tmp_path: Path):
    root = make_workspace(tmp_path / "ws", tools=("memcheck", "racecheck"))
    result = cli(root, "--save-reports", str(tmp_path / "saved"), "--no-cache")
    assert result.returncode == 1
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == ["memcheck.txt", "racecheck.txt", "runs.json"]
    runs = json.loads((tmp_path / "saved" / "runs.json").read_text())
    assert [(r["tool"], r["returncode"]) for r in runs] == [("memcheck", 86), ("racecheck", 86)]
    assert "ERROR SUMMARY: 1025 errors" in (tmp_path / "saved" / "memcheck.txt").read_text()
