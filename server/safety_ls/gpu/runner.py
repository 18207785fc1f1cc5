"""One validation: the configured program under each sanitizer tool, reports read, results cached.

The CLI (`safety-ls validate`) and the language server's lens command both
call `validate` and then `map_validation`; nothing here prints or talks LSP.
Problems that stop a run (no sanitizer, no GPU, a timeout) come back as plain
sentences in `Validation.problems`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import threading
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Callable, Iterator

from safety_ls.core.files import make_directory, prepare_cache_directory, write_text
from safety_ls.core.settings import GpuSettings, Settings
from safety_ls.engine.cache import CACHE_DIRECTORY, content_key
from safety_ls.gpu.backends import ERROR_EXITCODE, build_invocation
from safety_ls.gpu.mapping import MappedFindings, Workspace, map_reports
from safety_ls.gpu.process import (
    MAX_LINE_BYTES,
    MAX_REPORT_BYTES,
    ProcessResult,
    run_process,
)
from safety_ls.gpu.reports import (
    SanitizerReport,
    infer_tool,
    looks_like_xml,
    parse_text,
    parse_xml,
)

CACHE_FORMAT = "gpu-v1"
MAX_XML_BYTES = 64 * 1024 * 1024
MAX_IMPORT_BYTES = 256 * 1024 * 1024  # of a saved report, decompressed
# Words in a run's output that mean there is no GPU to run on (driver, runtime and sanitizer wording).
_NO_GPU = re.compile(
    r"CUDA_ERROR_NO_DEVICE|no CUDA-capable device|Device not supported|Unable to find any supported device|"
    r"CUDA driver version is insufficient|CUDA_ERROR_INSUFFICIENT_DRIVER|libcuda\.so[.\d]*: cannot open|"
    r"CUresult 100\b|failed to initialize the CUDA driver",
    re.I,
)
_NOT_FOUND = re.compile(r"command not found|No such file or directory|not found$", re.I)
# A workspace's inputs to a run: what a cached result must not outlive.
SOURCE_SUFFIXES = (".rs", ".cu", ".cuh", ".ptx", ".toml")

Progress = Callable[[str, int | None], None]  # (message, percentage)


class NotConfigured(Exception):
    pass


@dataclass
class ToolRun:
    tool: str
    argv: list[str]
    returncode: int | None
    output: str  # sanitizer lines and the program's last lines
    xml: str | None  # the XML report, for `[gpu] xml = true`
    duration: float  # seconds the sanitizer process ran
    timed_out: bool = False
    cancelled: bool = False
    dropped_lines: int = 0
    start_error: str | None = None
    cached: bool = False

    def report(self) -> SanitizerReport:
        text = parse_text(self.output, self.tool)
        if self.xml is None:
            return text
        report = parse_xml(io.BytesIO(self.xml.encode("utf-8")), self.tool)
        # The XML holds the printed records only; the counts are in the text output beside it.
        report.reported, report.program_output = text.reported, text.program_output
        report.omitted = max(report.omitted, text.omitted)
        report.notices.extend(text.notices)
        return report

    @property
    def completed(self) -> bool:
        return self.start_error is None and not self.timed_out and not self.cancelled and self.returncode is not None


@dataclass
class Validation:
    root: Path
    runs: list[ToolRun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what made the validation fail or stop
    notes: list[str] = field(default_factory=list)  # caveats on a validation that ran
    wall_time: float = 0.0  # the whole validation, sanitizer runs included

    @property
    def cancelled(self) -> bool:
        return any(run.cancelled for run in self.runs)

    @property
    def reports(self) -> list[SanitizerReport]:
        return [run.report() for run in self.runs if run.returncode is not None and not run.start_error]

    @property
    def sanitizer_time(self) -> float:
        return sum(run.duration for run in self.runs if not run.cached)


def _sanitizer_available(gpu: GpuSettings, root: Path) -> str | None:
    """A sentence saying what is missing locally, or None."""
    if gpu.backend == "ssh":
        return None if shutil.which("ssh") else "`ssh` is not installed here, and [gpu] backend = \"ssh\" needs it"
    if gpu.backend == "srun":
        return None if shutil.which("srun") else "`srun` (Slurm) is not on PATH, and [gpu] backend = \"srun\" needs it"
    sanitizer = gpu.sanitizer
    if os.sep in sanitizer:
        found = (root / sanitizer).is_file() and os.access(root / sanitizer, os.X_OK)
    else:
        found = shutil.which(sanitizer) is not None
    if found:
        return None
    return (
        f"compute-sanitizer was not found (looked for `{sanitizer}`"
        + (" on PATH" if os.sep not in sanitizer else f" relative to {root}")
        + "); install the CUDA toolkit, or set [gpu] sanitizer to its path (e.g. /usr/local/cuda/bin/compute-sanitizer)"
    )


def _inputs_digest(root: Path, gpu: GpuSettings, exclude_dirs: tuple[str, ...] = ("target",)) -> str:
    """The contents a run depends on: files the command names, and the workspace's sources."""
    digest = hashlib.blake2b(digest_size=20)
    for word in gpu.command:
        candidate = root / word
        if candidate.is_file():
            digest.update(word.encode() + b"\0")
            with candidate.open("rb") as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(chunk)
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith(".") and d not in exclude_dirs)
        for name in sorted(files):
            if name.endswith(SOURCE_SUFFIXES):
                path = Path(directory) / name
                try:
                    digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
                except OSError:
                    continue
    return digest.hexdigest()


class ResultStore:
    """Completed tool runs on disk, keyed by a content hash of everything the run depends on."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.directory = root / CACHE_DIRECTORY / "gpu"

    def key(self, gpu: GpuSettings, tool: str, argv: tuple[str, ...], inputs: str) -> str:
        settings = json.dumps(
            {"backend": gpu.backend, "host": gpu.host, "remote_dir": gpu.remote_dir, "env": dict(sorted(gpu.env.items()))},
            sort_keys=True,
        )
        # The scratch path of an XML report differs per run; the command does not otherwise.
        stable = [word if not word.endswith(f"{tool}.xml") else f"{tool}.xml" for word in argv]
        return content_key(CACHE_FORMAT, tool, json.dumps(stable), settings, inputs)

    def get(self, key: str) -> ToolRun | None:
        try:
            stored = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
            return ToolRun(**{**stored, "cached": True})
        except (OSError, ValueError, TypeError):
            return None

    def put(self, key: str, run: ToolRun) -> None:
        try:
            prepare_cache_directory(self.directory.parent, self.root)
            make_directory(self.directory, self.root)
            write_text(self.directory / f"{key}.json", json.dumps({**asdict(run), "cached": False}), root=self.directory)
        except OSError:
            return  # a read-only workspace: results are simply not kept


def _problems_of(run: ToolRun, report: SanitizerReport, gpu: GpuSettings, notes: list[str]) -> tuple[list[str], bool]:
    """Sentences about what went wrong in a run (caveats go to `notes`), and whether to stop there."""
    if run.start_error:
        return [run.start_error], True
    if run.cancelled:
        return ["validation was cancelled"], True
    if run.timed_out:
        return [f"{run.tool}: the run did not finish within {gpu.timeout:g} s and was stopped; raise [gpu] timeout"], True
    problems = []
    lines = report.notices + report.program_output
    no_gpu = next((line for line in lines if _NO_GPU.search(line)), None)
    if no_gpu is not None and not report.errors:
        return [f"{run.tool}: no usable GPU: {no_gpu.strip()}"], True
    if gpu.backend == "ssh" and run.returncode == 255:  # ssh's own failure: connection, authentication
        last = next((line.strip() for line in reversed(lines) if line.strip()), "no message")
        return [f"{run.tool}: ssh to {gpu.host} failed: {last}"], True
    if run.returncode == 127 or (run.returncode not in (0, ERROR_EXITCODE) and not report.errors and any(_NOT_FOUND.search(line) for line in lines[-5:])):
        where = f"on {gpu.host}" if gpu.backend == "ssh" else "on the cluster node" if gpu.backend == "srun" else ""
        last = next((line for line in reversed(lines) if line.strip()), "")
        return [f"{run.tool}: the sanitizer or the program could not be started {where}: {last.strip()}".replace("  ", " ")], True
    if run.dropped_lines:
        notes.append(
            f"{run.tool}: the report was over {MAX_REPORT_BYTES // (1024 * 1024)} MiB; "
            f"{run.dropped_lines} lines past that were not read (the summary was)"
        )
    notes.extend(f"{run.tool}: {warning}" for warning in report.trouble()[1] if not run.dropped_lines)
    if run.returncode == ERROR_EXITCODE and not report.errors and not report.omitted:
        # Errors, by the sanitizer's own exit code, that cannot be shown: never "no findings".
        counted = f"its summary counts {report.reported} error(s)" if report.reported else "it printed no summary"
        problems.append(f"{run.tool}: the sanitizer exited with its error code ({ERROR_EXITCODE}) but no error record could be read; {counted}")
    elif run.returncode not in (0, ERROR_EXITCODE) and report.error_count == 0:
        tail = " | ".join(line.strip() for line in report.program_output[-3:] if line.strip())
        problems.append(f"{run.tool}: the program exited with code {run.returncode} and no sanitizer finding" + (f" ({tail})" if tail else ""))
    elif run.returncode == 0 and report.error_count:
        problems.append(f"{run.tool}: findings were reported but the sanitizer exited 0 (was --error-exitcode dropped?)")
    return problems, False


def require_configured(gpu: GpuSettings) -> None:
    if not gpu.command:
        raise NotConfigured(
            "GPU validation is not configured: add a [gpu] table with `command = [...]` (the program that runs "
            "the kernels, as an argv list) to safety-ls.toml, or [package.metadata.safety-ls.gpu] to Cargo.toml"
        )


def validate(
    root: Path,
    settings: Settings,
    tools: tuple[str, ...] | None = None,
    *,
    cancel: threading.Event | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
) -> Validation:
    """Run the configured command under each tool (the config's tools unless given)."""
    gpu = settings.gpu
    require_configured(gpu)
    started = time.monotonic()
    validation = Validation(root)
    chosen = tools or gpu.tools
    missing = _sanitizer_available(gpu, root)
    if missing is not None:
        validation.problems.append(missing)
        return validation
    store = ResultStore(root) if use_cache else None
    inputs = _inputs_digest(root, gpu) if store is not None else ""
    with tempfile.TemporaryDirectory(prefix="safety-ls-gpu-") as scratch:
        for index, tool in enumerate(chosen):
            if cancel is not None and cancel.is_set():
                validation.problems.append("validation was cancelled")
                break
            try:
                invocation = build_invocation(gpu, tool, root, Path(scratch))
            except ValueError as error:
                validation.problems.append(str(error))
                break
            percentage = 100 * index // len(chosen)
            key = store.key(gpu, tool, invocation.argv, inputs) if store is not None else None
            run = store.get(key) if store is not None and key is not None else None
            if run is not None:
                _say(progress, f"{tool}: cached result ({index + 1}/{len(chosen)})", percentage)
            else:
                _say(progress, f"{tool}: running ({index + 1}/{len(chosen)})", percentage)
                run = _run_tool(tool, invocation, gpu.timeout, cancel, progress, index, len(chosen))
            report = run.report()
            validation.runs.append(run)
            problems, stop = _problems_of(run, report, gpu, validation.notes)
            validation.problems.extend(problems)
            if store is not None and key is not None and run.completed and not run.cached and not stop:
                store.put(key, run)
            if stop:
                break
    validation.wall_time = time.monotonic() - started
    return validation


def _say(progress: Progress | None, message: str, percentage: int | None) -> None:
    if progress is not None:
        progress(message, percentage)


def _run_tool(
    tool: str, invocation, timeout: float, cancel: threading.Event | None, progress: Progress | None, index: int, total: int
) -> ToolRun:
    last_report = [0.0]

    def on_line(count: int) -> None:
        now = time.monotonic()
        if progress is not None and now - last_report[0] > 0.5:
            last_report[0] = now
            progress(f"{tool}: {count} report lines ({index + 1}/{total})", 100 * index // total)

    result: ProcessResult = run_process(
        invocation.argv, cwd=invocation.cwd, env=invocation.env, timeout=timeout, cancel=cancel, on_line=on_line
    )
    xml = None
    if invocation.xml_path is not None and invocation.xml_path.is_file():
        with invocation.xml_path.open("rb") as stream:
            data = stream.read(MAX_XML_BYTES)
        xml = data.decode("utf-8", "replace") if looks_like_xml(data[:200]) else None
    return ToolRun(
        tool=tool,
        argv=list(invocation.argv),
        returncode=result.returncode,
        output=result.output,
        xml=xml,
        duration=result.duration,
        timed_out=result.timed_out,
        cancelled=result.cancelled,
        dropped_lines=result.dropped_lines,
        start_error=result.start_error,
    )


def map_validation(validation: Validation, settings: Settings, display: Callable[[Path], str]) -> MappedFindings:
    return map_reports(validation.reports, Workspace(validation.root, settings), display)


class ReportError(Exception):
    """A saved report that cannot be read at all (a damaged or mislabelled `.gz`, an unreadable file)."""


class _Capped(io.RawIOBase):
    """At most `limit` bytes of `stream` (decompressed, for a `.gz`); notes when there was more."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream, self.left, self.cut = stream, limit, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.left <= 0:
            self.cut = self.cut or bool(self.stream.read(1))
            return 0
        data = self.stream.read(min(len(buffer), self.left))
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def _lines(stream: IO[bytes]) -> Iterator[str]:
    """The stream's lines, an overlong one in pieces of MAX_LINE_BYTES (a line can be the whole file)."""
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace")
    return iter(lambda: text.readline(MAX_LINE_BYTES), "")


def _read_report(path: Path, tool: str | None) -> SanitizerReport:
    with _open(path) as stream:
        head = stream.read(200)
    chosen = tool or _tool_from_name(path)
    if chosen is None and not looks_like_xml(head):
        # Which tool wrote a text report is read from the report itself: a first, streamed pass.
        with _open(path) as stream:
            capped = _Capped(stream, MAX_IMPORT_BYTES)
            chosen = infer_tool(_lines(io.BufferedReader(capped)))
    with _open(path) as stream:
        capped = _Capped(stream, MAX_IMPORT_BYTES)
        buffered = io.BufferedReader(capped)
        if looks_like_xml(head):
            report = parse_xml(buffered, chosen or "memcheck")
        else:
            report = parse_text(_lines(buffered), chosen)
        if capped.cut:
            report.cut_off = f"the report is over {MAX_IMPORT_BYTES // (1024 * 1024)} MiB; only that much was read"
    return report


def import_reports(paths: list[Path], tool: str | None) -> list[SanitizerReport]:
    """Saved reports (`--report`): XML from `--xml --save`, or text output, either gzipped or not;
    the tool is inferred where not given. Each is read as a stream, at most MAX_IMPORT_BYTES of it
    (a small `.gz` can expand to gigabytes). Raises ReportError for a file that cannot be read."""
    reports = []
    for path in paths:
        try:
            reports.append(_read_report(path, tool))
        except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError; EOFError: a cut-off .gz
            detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error) or "the file is cut off"
            raise ReportError(f"{path}: cannot read the report: {detail}") from None
    return reports


def _tool_from_name(path: Path) -> str | None:
    """A tool named in the file's name (`memcheck_oob.xml`); XML reports do not say which tool wrote them."""
    match = re.search(r"memcheck|racecheck|initcheck|synccheck", path.name)
    return match.group(0) if match else None
