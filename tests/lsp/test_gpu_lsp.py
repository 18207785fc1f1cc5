"""The lens command end to end: the real `safety-ls serve --stdio` driven by pytest-lsp.

The GPU program's sanitizer is the recorded-report stand-in (tests/gpu_standin/, labelled there):
CI has no GPU. What runs for real is the server: the background run, `$/progress`, cancellation
through the progress and on shutdown, the published `gpu-sanitizer-error`
diagnostics and the lens titles.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest
import pytest_lsp
from gpu_workspace import make_workspace
from lsprotocol import types as lsp
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient
from test_lsp import TIMEOUT, make_client, publishes, wait_until

pytestmark = pytest.mark.asyncio
COMMAND = "safety-ls.validateKernel"


def make_gpu_client() -> LanguageClient:
    """test_lsp's recording client, also answering (and counting) `workspace/codeLens/refresh`."""
    client = make_client()
    client.lens_refreshes = 0  # type: ignore[attr-defined]

    @client.feature(lsp.WORKSPACE_CODE_LENS_REFRESH)
    def refresh(client: LanguageClient, params: None) -> None:
        client.lens_refreshes += 1  # type: ignore[attr-defined]

    return client


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "safety_ls", "serve", "--stdio"], client_factory=make_gpu_client),
)
async def client(lsp_client: LanguageClient):
    yield
    if lsp_client.capabilities is not None and lsp_client._server is not None and lsp_client._server.returncode is None:
        await asyncio.wait_for(lsp_client.shutdown_session(), TIMEOUT)


async def initialize(client: LanguageClient, root: Path) -> None:
    """A client that shows progress and refreshes lenses, as VS Code does."""
    capabilities = lsp.ClientCapabilities(
        window=lsp.WindowClientCapabilities(work_done_progress=True),
        workspace=lsp.WorkspaceClientCapabilities(code_lens=lsp.CodeLensWorkspaceClientCapabilities(refresh_support=True)),
    )
    params = lsp.InitializeParams(capabilities=capabilities, root_uri=from_fs_path(str(root)))
    await asyncio.wait_for(client.initialize_session(params), TIMEOUT)


async def open_main(client: LanguageClient, root: Path) -> tuple[str, str]:
    """The probe's main.rs, with an undocumented unsafe block appended for the checker to report."""
    path = root / "src" / "main.rs"
    text = path.read_text(encoding="utf-8") + "\nfn extra(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
    path.write_text(text, encoding="utf-8")
    uri = from_fs_path(str(path))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "rust", 1, text)))
    await wait_until(lambda: publishes(client, uri), "first diagnostics")
    return uri, text


async def lenses(client: LanguageClient, uri: str) -> dict[int, str]:
    found = await client.text_document_code_lens_async(lsp.CodeLensParams(lsp.TextDocumentIdentifier(uri)))
    return {lens.range.start.line: lens.command.title for lens in found}


async def start_hung_run(client: LanguageClient, tmp_path: Path) -> Path:
    """A validation whose program never ends; returns the stand-in's log (it holds the pids)."""
    log = tmp_path / "argv.log"
    root = make_workspace(tmp_path / "ws", timeout=120, env={"SAFETY_LS_STANDIN_MODE": "hang", "SAFETY_LS_STANDIN_LOG": str(log)})
    await initialize(client, root)
    uri, _ = await open_main(client, root)
    await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command=COMMAND, arguments=[uri, 128]))
    await wait_until(lambda: log.exists() and "pids" in log.read_text(), "the hung program", timeout=20)
    return log


def gone(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def gpu_findings(client: LanguageClient, uri: str) -> list[tuple[int, str]]:
    latest = publishes(client, uri)[-1][1]
    return sorted((d.range.start.line, d.message.split(":")[0]) for d in latest if d.code == "gpu-sanitizer-error")


async def finished(client: LanguageClient, before: int) -> str:
    """The message the server shows when the background run ends."""
    await wait_until(
        lambda: any(m.message.startswith("safety-ls: GPU validation") for m in client.messages[before:]), "the run's end", timeout=30
    )
    return next(m.message for m in client.messages[before:] if m.message.startswith("safety-ls: GPU validation"))


async def test_lens_command_validates_publishes_and_titles_the_lenses(client: LanguageClient, tmp_path: Path):
    root = make_workspace(tmp_path, tools=("memcheck", "racecheck"))
    await initialize(client, root)
    uri, _ = await open_main(client, root)
    assert await lenses(client, uri) == {line: "Validate on GPU" for line in (104, 128, 151, 174)}
    before = publishes(client, uri)[-1][1]
    assert [d.code for d in before] == ["undocumented-unsafe-block"]
    shown = len(client.messages)
    answer = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command=COMMAND, arguments=[uri, 128]))
    assert answer == {"status": "started", "message": "GPU validation started (memcheck, racecheck)"}
    assert await finished(client, shown) == "safety-ls: GPU validation (memcheck, racecheck): 3 finding(s) at launch sites"
    await wait_until(lambda: gpu_findings(client, uri), "gpu-sanitizer-error diagnostics")
    assert gpu_findings(client, uri) == [(128, "memcheck"), (174, "racecheck"), (174, "racecheck")]
    memcheck = next(d for d in publishes(client, uri)[-1][1] if d.code == "gpu-sanitizer-error")
    assert memcheck.message.startswith("memcheck: Invalid __global__ write of size 4 bytes in `vector_add`")
    assert memcheck.severity == lsp.DiagnosticSeverity.Error and memcheck.range.start.character == 8
    others = [d for d in publishes(client, uri)[-1][1] if d.code != "gpu-sanitizer-error"]
    assert others == list(before)  # the checker's own findings are still published beside them
    titles = await lenses(client, uri)
    stamp = time.strftime("%H:")
    assert titles[128].startswith("GPU: 1 finding (memcheck) · " + stamp) and titles[128].endswith("validate again")
    assert titles[174].startswith("GPU: 2 findings (racecheck) · ")
    assert titles[104].startswith("GPU: no finding here (memcheck, racecheck) · ")
    (token,) = [t for t in client.progress_reports if str(t).startswith("safety-ls-gpu-")]
    reports = client.progress_reports[token]
    assert isinstance(reports[0], lsp.WorkDoneProgressBegin) and reports[0].cancellable
    assert any(isinstance(r, lsp.WorkDoneProgressReport) and r.message == "racecheck: running (2/2)" for r in reports)
    assert isinstance(reports[-1], lsp.WorkDoneProgressEnd)
    assert client.lens_refreshes >= 2  # type: ignore[attr-defined]  # when the run started and when it ended


async def test_findings_stay_on_their_line_after_an_edit_above(client: LanguageClient, tmp_path: Path):
    root = make_workspace(tmp_path)
    await initialize(client, root)
    uri, text = await open_main(client, root)
    shown = len(client.messages)
    await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command=COMMAND, arguments=[uri, 128]))
    await finished(client, shown)
    await wait_until(lambda: gpu_findings(client, uri), "gpu diagnostics")
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)), text="// x\n")],
        )
    )
    await wait_until(lambda: publishes(client, uri)[-1][0] == 2, "diagnostics for v2")
    assert gpu_findings(client, uri) == [(128, "memcheck")]  # the run's line, until the next run


async def test_cancelling_the_progress_stops_a_hung_run(client: LanguageClient, tmp_path: Path):
    log = tmp_path / "argv.log"
    root = make_workspace(tmp_path / "ws", timeout=120, env={"SAFETY_LS_STANDIN_MODE": "hang", "SAFETY_LS_STANDIN_LOG": str(log)})
    await initialize(client, root)
    uri, _ = await open_main(client, root)
    shown = len(client.messages)
    started = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command=COMMAND, arguments=[uri, 128]))
    assert started["status"] == "started"
    await wait_until(lambda: log.exists() and "pids" in log.read_text(), "the hung program", timeout=20)
    assert (await lenses(client, uri))[128] == "GPU: validating…"
    busy = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command=COMMAND, arguments=[uri, 128]))
    assert busy["status"] == "busy"
    (token,) = [t for t in client.progress_reports if str(t).startswith("safety-ls-gpu-")]
    client.protocol.notify(lsp.WINDOW_WORK_DONE_PROGRESS_CANCEL, lsp.WorkDoneProgressCancelParams(token=token))
    assert await finished(client, shown) == "safety-ls: GPU validation cancelled"
    assert gpu_findings(client, uri) == []
    assert (await lenses(client, uri))[128] == "Validate on GPU"
    pids = next(json.loads(line)["pids"] for line in log.read_text().splitlines() if "pids" in line)
    await wait_until(lambda: all(gone(pid) for pid in pids), "the sanitizer's processes to end", timeout=10)


async def test_shutdown_during_a_run_stops_the_sanitizer(client: LanguageClient, tmp_path: Path):
    # pygls cancels pending work on `shutdown`; the run must not outlive the server.
    log = await start_hung_run(client, tmp_path)
    pids = next(json.loads(line)["pids"] for line in log.read_text().splitlines() if "pids" in line)
    await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    await wait_until(lambda: all(gone(pid) for pid in pids), "the sanitizer's processes to end", timeout=10)


async def test_a_killed_server_takes_the_sanitizer_with_it(client: LanguageClient, tmp_path: Path):
    log = await start_hung_run(client, tmp_path)
    sanitizer, _ = next(json.loads(line)["pids"] for line in log.read_text().splitlines() if "pids" in line)
    client._server.kill()  # no shutdown, no exit: the editor crashed
    await client._server.wait()
    await wait_until(lambda: gone(sanitizer), "the sanitizer to receive its parent-death signal", timeout=10)
