"""Keystroke-to-diagnostics latency of the safety-ls language server, side by side with `ast-grep lsp`.

What an editor sees: a `textDocument/didChange` inserting one character (typing
one character at a time inside a function body in the middle of the file), then
the `textDocument/publishDiagnostics` for that version. Keystrokes are sent one
after another: the next one leaves once the previous one's diagnostics arrived
(plus a short gap, so that stray publications are seen and counted).
ast-grep does not always echo the version: its publication is matched by arrival
after the change.

Files are built from real crate sources (bench/make_lsp_corpus.py, into a temporary
directory): ~6,000 lines (> 100 unsafe blocks, > 100 casts) and ~11,000 lines.
safety-ls runs with `initializationOptions: {"select": ["ALL"]}` and with the
default profile; ast-grep runs with one rule, `unsafe { $$$ }` at severity warning.

Then the resident memory (VmRSS, VmHWM from /proc/PID/status) of each server after
opening 50 distinct corpus files of 1,000-3,000 lines.

The client is a bare JSON-RPC reader (json.loads, as an editor does), so the
numbers hold no client-side deserialisation beyond that.

    python bench/lsp_latency.py [--keystrokes 200] [--warmup 20] [--keep DIR]
    python bench/lsp_latency.py --profile [--file medium|large] [--select ALL|default]
        one server under cProfile for the keystrokes only (apply_change + refresh), top functions printed
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tree_sitter_rust
from tree_sitter import Language, Parser

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_lsp_corpus

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# Typed one character at a time at the end of a statement line: Enter, then a statement
# (the newline is one character too: no auto-indent).
SNIPPET = "\nlet n = len as u64 + 1;"

SG_CONFIG = "ruleDirs:\n  - rules\n"
SG_RULE = """id: undocumented-unsafe
language: Rust
severity: warning
message: unsafe block without a SAFETY comment
rule:
  pattern: unsafe { $$$ }
"""

# Runs the server with cProfile enabled only around keystroke work (didChange handling
# and the refresh that analyses and publishes for versions > 1); stats dumped at exit.
PROFILE_BOOTSTRAP = r"""
import atexit, cProfile, os, sys
from safety_ls.lsp import language_server as L, server as S
from safety_ls.lsp.documents import Document
prof = cProfile.Profile()
atexit.register(lambda: prof.dump_stats(os.environ["SAFETY_LS_BENCH_PROFILE"]))
orig_apply = Document.apply_change
def apply_change(self, *a, **k):
    prof.enable()
    try:
        return orig_apply(self, *a, **k)
    finally:
        prof.disable()
Document.apply_change = apply_change
orig_refresh = L.SafetyLanguageServer.refresh
def refresh(self, document, *args, **kwargs):
    if document.version > 1:
        prof.enable()
        try:
            return orig_refresh(self, document, *args, **kwargs)
        finally:
            prof.disable()
    return orig_refresh(self, document, *args, **kwargs)
L.SafetyLanguageServer.refresh = refresh
S.serve()
"""


# --- a bare LSP client ----------------------------------------------------------------------


@dataclass
class Publication:
    uri: str
    version: int | None
    count: int
    codes: list[str]
    arrived: float


@dataclass
class Client:
    process: asyncio.subprocess.Process
    next_id: int = 1
    pending: dict[int, asyncio.Future] = field(default_factory=dict)
    publications: asyncio.Queue = field(default_factory=asyncio.Queue)
    messages: list[str] = field(default_factory=list)  # window/showMessage and logMessage (errors, warnings)
    reader: asyncio.Task | None = None

    @classmethod
    async def start(cls, argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Client:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(cwd),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            limit=1 << 26,
        )
        client = cls(process)
        client.reader = asyncio.ensure_future(client._read())
        return client

    def _write(self, message: dict[str, Any]) -> None:
        self.process.stdin.write(self.frame(message))

    @staticmethod
    def frame(message: dict[str, Any]) -> bytes:
        body = json.dumps(message).encode()
        return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)

    async def send_frame(self, frame: bytes) -> None:
        self.process.stdin.write(frame)
        await self.process.stdin.drain()

    async def request(self, method: str, params: Any) -> Any:
        ident = self.next_id
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[ident] = future
        self._write({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        await self.process.stdin.drain()
        return await future

    async def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})
        await self.process.stdin.drain()

    async def _read(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = await stream.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            body = await stream.readexactly(length)
            message = json.loads(body)
            arrived = time.perf_counter()
            method = message.get("method")
            if method is None:  # a response
                future = self.pending.pop(message.get("id"), None)
                if future is not None and not future.done():
                    future.set_result(message.get("result", message.get("error")))
            elif "id" in message:  # a request from the server: answer it plainly
                if method == "workspace/configuration":
                    result: Any = [None] * len(message["params"]["items"])
                else:
                    result = None
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": result})
            elif method == "textDocument/publishDiagnostics":
                params = message["params"]
                codes = [str(d.get("code")) for d in params["diagnostics"]]
                self.publications.put_nowait(
                    Publication(params["uri"], params.get("version"), len(codes), codes, arrived)
                )
            elif method in ("window/showMessage", "window/logMessage") and message["params"].get("type", 4) <= 2:
                self.messages.append(message["params"]["message"])

    async def initialize(self, root: Path, options: Any) -> dict[str, Any]:
        result = await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "initializationOptions": options,
                "capabilities": {
                    "general": {"positionEncodings": ["utf-16"]},
                    "textDocument": {
                        "synchronization": {"didSave": True},
                        "publishDiagnostics": {"versionSupport": True},
                    },
                    "workspace": {"configuration": True, "workspaceFolders": True},
                },
            },
        )
        await self.notify("initialized", {})
        return result

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.request("shutdown", None), 10)
            await self.notify("exit", None)
            await asyncio.wait_for(self.process.wait(), 10)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.process.kill()
            await self.process.wait()
        if self.reader is not None:
            self.reader.cancel()

    def drain(self) -> list[Publication]:
        out = []
        while not self.publications.empty():
            out.append(self.publications.get_nowait())
        return out

    async def wait_publication(self, uri: str, version: int | None, after: float, timeout: float = 60.0) -> Publication:
        """The first publication for `uri` arriving after `after` (with `version`, when the server sends one)."""
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no diagnostics for {uri} version {version}")
            publication = await asyncio.wait_for(self.publications.get(), left)
            if publication.uri != uri or publication.arrived < after:
                continue
            if version is not None and publication.version is not None and publication.version != version:
                continue
            return publication

    def rss(self) -> dict[str, int]:
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(value.split()[0])  # kB
        return values


# --- tools ----------------------------------------------------------------------------------


@dataclass
class Tool:
    name: str
    argv: list[str]
    options: Any = None
    env: dict[str, str] | None = None


def safety_ls(select: list[str] | None, env: dict[str, str] | None = None, argv: list[str] | None = None) -> Tool:
    label = "safety-ls " + ("select=" + ",".join(select) if select else "default")
    return Tool(
        label,
        argv or [sys.executable, "-m", "safety_ls", "serve", "--stdio"],
        {"select": select} if select else None,
        env,
    )


def ast_grep(workdir: Path) -> Tool:
    binary = shutil.which("ast-grep", path=str(VENV_BIN)) or shutil.which("ast-grep")
    if binary is None:
        sys.exit("ast-grep not found: pip install ast-grep-cli")
    return Tool("ast-grep", [binary, "lsp", "-c", str(workdir / "sgconfig.yml")])


def ast_grep_version() -> str:
    binary = shutil.which("ast-grep", path=str(VENV_BIN)) or shutil.which("ast-grep")
    return subprocess.run([binary, "--version"], check=False, capture_output=True, text=True).stdout.strip() if binary else "-"


# --- where to type --------------------------------------------------------------------------


def typing_position(data: bytes) -> tuple[int, int, str]:
    """(line, column) at the end of the line where the first statement of a function body near the middle ends.

    The function is an item of a module or impl (`mod m_N { ... }` or an impl inside it),
    with a body of at least 5 lines, whose first statement starts on its own line.
    """
    tree = Parser(Language(tree_sitter_rust.language())).parse(data)
    middle = data.count(b"\n") // 2
    best = None
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "function_item" and node.parent is not None and node.parent.type == "declaration_list":
            body = node.child_by_field_name("body")
            if body is not None and body.end_point.row - body.start_point.row >= 5 and body.named_child_count:
                first = body.named_children[0]
                if first.start_point.row > body.start_point.row and first.type != "line_comment":
                    distance = abs(first.start_point.row - middle)
                    if best is None or distance < best[0]:
                        name = node.child_by_field_name("name")
                        row = first.end_point.row
                        text = data.split(b"\n")[row].decode()
                        best = (distance, row, len(text.encode("utf-16-le")) // 2, name.text.decode())
        stack.extend(node.children)
    if best is None:
        sys.exit("no function body to type in")
    return best[1], best[2], best[3]


# --- measurements ---------------------------------------------------------------------------


@dataclass
class Run:
    tool: str
    file: str
    lines: int
    latencies: list[float]  # ms, measured keystrokes only
    open_ms: float
    open_count: int
    open_codes: dict[str, int]
    last_count: int
    extra_publications: int
    versioned: bool
    messages: list[str]
    rss_kb: dict[str, int]
    sync: str


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


async def measure(tool: Tool, workdir: Path, path: Path, keystrokes: int, warmup: int, gap: float) -> Run:
    data = path.read_bytes()
    line, column, function = typing_position(data)
    client = await Client.start(tool.argv, workdir, tool.env)
    try:
        capabilities = (await client.initialize(workdir, tool.options))["capabilities"]
        sync = capabilities.get("textDocumentSync", 0)
        sync = sync.get("change", 0) if isinstance(sync, dict) else sync
        full = sync == 1  # Full: the editor sends the whole text on every keystroke
        text = data.decode()
        await asyncio.sleep(0.3)  # let initialized-time requests (configuration) settle
        uri = path.as_uri()
        client.drain()
        started = time.perf_counter()
        await client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": data.decode()}},
        )
        opened = await client.wait_publication(uri, 1, started, timeout=300)
        open_ms = (time.perf_counter() - started) * 1000
        open_codes: dict[str, int] = {}
        for code in opened.codes:
            open_codes[code] = open_codes.get(code, 0) + 1
        await asyncio.sleep(0.2)
        client.drain()
        versioned = opened.version is not None
        latencies: list[float] = []
        extra = 0
        last = opened
        for index in range(warmup + keystrokes):
            char = SNIPPET[index % len(SNIPPET)]
            version = index + 2
            change: dict[str, Any] = {
                "range": {"start": {"line": line, "character": column}, "end": {"line": line, "character": column}},
                "text": char,
            }
            if full:
                text = insert(text, line, column, char)
                change = {"text": text}
            frame = client.frame({
                "jsonrpc": "2.0", "method": "textDocument/didChange",
                "params": {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
            })
            sent = time.perf_counter()
            await client.send_frame(frame)
            last = await client.wait_publication(uri, version, sent)
            elapsed = (last.arrived - sent) * 1000
            if index >= warmup:
                latencies.append(elapsed)
            versioned = versioned and last.version is not None
            if char == "\n":
                line, column = line + 1, 0
            else:
                column += 1
            await asyncio.sleep(gap)
            stray = client.drain()
            if index >= warmup:
                extra += len(stray)
        rss = client.rss()
    finally:
        await client.stop()
    return Run(
        tool.name, f"{path.name} (fn {function})", data.count(b"\n") + 1, latencies, open_ms, opened.count,
        open_codes, last.count, extra, versioned, client.messages, rss, "full" if full else "incremental",
    )


def insert(text: str, line: int, column: int, char: str) -> str:
    """`char` inserted at (line, column); the column counts UTF-16 units (ASCII where we type)."""
    start = 0
    for _ in range(line):
        start = text.index("\n", start) + 1
    prefix = text[start:].encode("utf-16-le")[: 2 * column].decode("utf-16-le")
    offset = start + len(prefix)
    return text[:offset] + char + text[offset:]


async def memory(tool: Tool, workdir: Path, files: list[Path]) -> tuple[dict[str, int], dict[str, int], float, int]:
    """RSS after initialize, RSS after opening every file (and receiving its diagnostics), seconds, diagnostics."""
    client = await Client.start(tool.argv, workdir, tool.env)
    try:
        await client.initialize(workdir, tool.options)
        await asyncio.sleep(0.5)
        before = client.rss()
        client.drain()
        started = time.perf_counter()
        total = 0
        for version, path in enumerate(files, start=1):
            sent = time.perf_counter()
            await client.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": path.as_uri(), "languageId": "rust", "version": 1,
                                  "text": path.read_bytes().decode(errors="replace")}},
            )
            total += (await client.wait_publication(path.as_uri(), 1, sent, timeout=300)).count
        seconds = time.perf_counter() - started
        await asyncio.sleep(1.0)
        after = client.rss()
    finally:
        await client.stop()
    return before, after, seconds, total


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def setup(workdir: Path) -> dict[str, Path]:
    made = make_lsp_corpus.build(workdir)
    (workdir / "sgconfig.yml").write_text(SG_CONFIG)
    (workdir / "rules").mkdir(exist_ok=True)
    (workdir / "rules" / "undocumented-unsafe.yml").write_text(SG_RULE)
    for name, (path, s, sources) in made.items():
        print(f"# {name}: {path.name}: {s.lines} lines, {s.unsafe_blocks} unsafe blocks, {s.casts} casts, "
              f"{s.errors} tree-sitter errors; from {', '.join(Path(x).relative_to(make_lsp_corpus.REGISTRY).as_posix() for x in sources)}")
    return {name: path for name, (path, _, _) in made.items()}


def report_run(run: Run) -> None:
    codes = ", ".join(f"{code} {n}" for code, n in sorted(run.open_codes.items(), key=lambda kv: -kv[1]))
    print(f"  {run.tool:<24} {run.file}: open {run.open_ms:.0f} ms, {run.open_count} diagnostics [{codes}]; "
          f"after typing {run.last_count}; sync {run.sync}; version echoed: {run.versioned}; stray publications: "
          f"{run.extra_publications}; min {min(run.latencies):.1f} max {max(run.latencies):.1f} mean "
          f"{statistics.mean(run.latencies):.1f} ms; RSS {run.rss_kb.get('VmRSS', 0) / 1024:.0f} MiB")
    for message in run.messages:
        print(f"    message from server: {message}")


async def main_bench(args: argparse.Namespace) -> None:
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="lsp-latency-"))
    try:
        files = setup(workdir)
        print(f"# ast-grep: {ast_grep_version()}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs; "
              f"{args.keystrokes} keystrokes after {args.warmup} warm-up, gap {args.gap * 1000:.0f} ms; typing {SNIPPET!r}; "
              f"load average {load()}")
        tools = [safety_ls(["ALL"]), safety_ls(None), ast_grep(workdir)]
        runs: list[Run] = []
        for name in ("medium", "large"):
            for tool in tools:
                run = await measure(tool, workdir, files[name], args.keystrokes, args.warmup, args.gap)
                runs.append(run)
                report_run(run)
        print()
        sg = {r.file: r for r in runs if r.tool == "ast-grep"}
        header = f"{'tool':<24} {'file':<34} {'lines':>6} {'p50 ms':>8} {'p95 ms':>8} {'ast-grep/safety-ls p50':>23} {'p95':>6}"
        print(header)
        print("-" * len(header))
        for run in runs:
            p50, p95 = percentile(run.latencies, 0.5), percentile(run.latencies, 0.95)
            ratio = ""
            if run.tool != "ast-grep":
                other = sg[run.file]
                ratio = f"{percentile(other.latencies, 0.5) / p50:>23.2f} {percentile(other.latencies, 0.95) / p95:>6.2f}"
            print(f"{run.tool:<24} {run.file:<34} {run.lines:>6} {p50:>8.1f} {p95:>8.1f} {ratio}")
        print(f"# load average after the latency runs: {load()} (other processes on this machine skew all tools)")
        print()
        mem_files = sorted((workdir / "mem").glob("*.rs"))
        lines = sum(p.read_bytes().count(b"\n") for p in mem_files)
        size = sum(p.stat().st_size for p in mem_files)
        print(f"# memory: {len(mem_files)} files, {lines} lines, {size / 1024 / 1024:.1f} MiB of text")
        for tool in (safety_ls(None), safety_ls(["ALL"]), ast_grep(workdir)):
            before, after, seconds, total = await memory(tool, workdir / "mem", mem_files)
            print(f"{tool.name:<24} RSS after initialize {before['VmRSS'] / 1024:.1f} MiB; after {len(mem_files)} files "
                  f"VmRSS {after['VmRSS'] / 1024:.1f} MiB (VmHWM {after['VmHWM'] / 1024:.1f} MiB); "
                  f"opened in {seconds:.1f} s, {total} diagnostics")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


async def main_profile(args: argparse.Namespace) -> None:
    import pstats

    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="lsp-latency-"))
    try:
        files = setup(workdir)
        out = workdir / "keystrokes.prof"
        env = dict(os.environ, SAFETY_LS_BENCH_PROFILE=str(out))
        select = None if args.select == "default" else [args.select]
        tool = safety_ls(select, env, [sys.executable, "-c", PROFILE_BOOTSTRAP])
        run = await measure(tool, workdir, files[args.file], args.keystrokes, args.warmup, args.gap)
        report_run(run)
        print(f"p50 {percentile(run.latencies, 0.5):.1f} ms, p95 {percentile(run.latencies, 0.95):.1f} ms "
              f"(under cProfile; {args.warmup + args.keystrokes} keystrokes profiled, warm-up included)")
        for key in ("cumulative", "tottime"):
            stats = pstats.Stats(str(out))
            stats.sort_stats(key).print_stats(args.top)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keystrokes", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between a publication and the next keystroke")
    parser.add_argument("--keep", help="build the files in this directory and keep them")
    parser.add_argument("--profile", action="store_true", help="profile safety-ls keystrokes instead")
    parser.add_argument("--file", choices=("medium", "large"), default="medium")
    parser.add_argument("--select", default="ALL", help="ALL, or 'default' for the default profile (with --profile)")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    asyncio.run(main_profile(args) if args.profile else main_bench(args))


if __name__ == "__main__":
    main()
