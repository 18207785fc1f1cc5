"""The GPU runner's ssh backend against a real OpenSSH server on 127.0.0.1.

Each test starts its own sshd (scripts/install-sshd.sh installs Debian's openssh-server) on a free
non-privileged port, with a throwaway host key and client key, logging in as the current user. The
"remote" side runs the recorded-report stand-in for compute-sanitizer (tests/gpu_standin/), since
CI has no GPU; what is real here is ssh: the quoting of the remote command line, the environment
passed with `env`, the exit code carried back, and stopping a hung remote run.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from gpu_workspace import make_workspace
from safety_ls.config.loader import load_settings
from safety_ls.gpu.runner import map_validation, validate

SSHD = "/usr/sbin/sshd"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sshd(tmp_path: Path):
    if not Path(SSHD).exists() or shutil.which("ssh") is None:
        pytest.fail("sshd or ssh is missing: run scripts/install-sshd.sh (scripts/test.sh does)")
    keys = tmp_path / "keys"
    keys.mkdir()
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)], check=True)
    (keys / "authorized_keys").write_text((keys / "client.pub").read_text())
    port = _free_port()
    config = keys / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {keys / 'host'}",
                f"AuthorizedKeysFile {keys / 'authorized_keys'}",
                f"PidFile {keys / 'sshd.pid'}",
                "UsePAM no",
                "StrictModes no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "LogLevel ERROR",
            ]
        )
        + "\n"
    )
    server = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"sshd did not start: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.05)
    client = [
        "-p", str(port), "-i", str(keys / "client"),
        "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
    ]
    yield f"{getpass.getuser()}@127.0.0.1", client
    server.terminate()
    server.wait(10)


def ssh_workspace(directory: Path, host: str, client: list[str], **options) -> Path:
    return make_workspace(directory, backend="ssh", host=host, ssh_args=client, remote_dir=str(directory), **options)


def run(root: Path):
    settings = load_settings(root)
    validation = validate(root, settings, use_cache=False)
    mapped = map_validation(validation, settings, lambda p: p.relative_to(root.resolve()).as_posix())
    return validation, sorted((d.path, d.line, d.message.split(":")[0]) for items in mapped.diagnostics.values() for d in items)


def test_validation_over_ssh_maps_the_remote_reports(sshd, tmp_path: Path):
    host, client = sshd
    log = tmp_path / "argv.log"
    # A directory name the remote shell must not split, and environment that must arrive intact.
    root = ssh_workspace(tmp_path / "work dir", host, client, tools=("memcheck", "racecheck"), env={"SAFETY_LS_STANDIN_LOG": str(log)})
    validation, found = run(root)
    assert validation.problems == [], validation.runs[0].output
    assert [(r.tool, r.returncode) for r in validation.runs] == [("memcheck", 86), ("racecheck", 86)]
    assert found == [("src/main.rs", 129, "memcheck"), ("src/main.rs", 175, "racecheck"), ("src/main.rs", 175, "racecheck")]
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [Path(call["cwd"]) for call in calls] == [root, root]
    assert calls[0]["argv"][-2:] == ["bin/gpu_probe", "oob"] and "--error-exitcode" in calls[0]["argv"]


def test_hung_remote_run_is_stopped_on_both_ends(sshd, tmp_path: Path):
    host, client = sshd
    log = tmp_path / "argv.log"
    root = ssh_workspace(tmp_path / "ws", host, client, timeout=2, env={"SAFETY_LS_STANDIN_MODE": "hang", "SAFETY_LS_STANDIN_LOG": str(log)})
    started = time.monotonic()
    validation, found = run(root)
    assert time.monotonic() - started < 15 and found == []
    assert validation.problems == ["memcheck: the run did not finish within 2 s and was stopped; raise [gpu] timeout"]
    pids = next(json.loads(line)["pids"] for line in log.read_text().splitlines() if "pids" in line)
    deadline = time.monotonic() + 10  # the remote `timeout -k 5` ends what the dropped connection did not
    while any(Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3] for pid in pids):
        assert time.monotonic() < deadline, "the remote run outlived its timeout"
        time.sleep(0.1)


def test_missing_remote_sanitizer_is_a_clear_message(sshd, tmp_path: Path):
    host, client = sshd
    root = ssh_workspace(tmp_path / "ws", host, client, sanitizer="/opt/nowhere/compute-sanitizer")
    validation, _ = run(root)
    (problem,) = validation.problems
    assert problem.startswith(f"memcheck: the sanitizer or the program could not be started on {host}:")
    assert "No such file or directory" in problem


def test_unreachable_host_is_a_clear_message(tmp_path: Path):
    port = _free_port()  # nothing listens there
    root = make_workspace(
        tmp_path, backend="ssh", host=f"{os.environ.get('USER', 'root')}@127.0.0.1",
        ssh_args=["-p", str(port), "-o", "ConnectTimeout=5", "-o", "StrictHostKeyChecking=no"],
    )
    validation, _ = run(root)
    (problem,) = validation.problems
    assert problem.startswith("memcheck: ssh to ") and problem.endswith("Connection refused")
