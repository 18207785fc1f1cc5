"""compute-sanitizer reports, text and XML, read into records.

Text reports are the lines starting with `=========` in the tool's output
(the program's own output is interleaved and kept apart); a blank prefixed
line separates records. An XML report is what `--xml --save FILE` writes. The
format is NVIDIA's and not specified; both readers take what they recognise
and keep the rest as detail lines, so an unknown record is shown, not lost.
Formats seen: compute-sanitizer 2025.3 (CUDA 13.0); the fixtures in
tests/fixtures/compute-sanitizer/ are real reports.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import IO, Iterable

TOOLS = ("memcheck", "racecheck", "initcheck", "synccheck")
PREFIX = "========="
# Records beyond this many are counted, not kept (the runner also bounds the output it reads);
# so are a record's lines past MAX_RECORD_LINES and notices past MAX_NOTICES: memory stays bounded
# whatever the report holds.
MAX_RECORDS = 5000
MAX_RECORD_LINES = 500
MAX_NOTICES = 200


@dataclass(frozen=True)
class HostFrame:
    function: str | None
    path: str | None
    line: int | None
    module: str | None


@dataclass(frozen=True)
class SanitizerError:
    tool: str
    message: str  # the record's first line, e.g. "Invalid __global__ write of size 4 bytes"
    kernel: str | None  # the device function it happened in
    details: tuple[str, ...] = ()  # thread and block, address, the racing accesses
    frames: tuple[HostFrame, ...] = ()  # host backtrace, innermost first
    hazards: int = 1  # racecheck: hazards the record stands for
    warning: bool = False


@dataclass
class SanitizerReport:
    tool: str
    errors: list[SanitizerError] = field(default_factory=list)
    reported: int | None = None  # the summary's count of errors (printed or not)
    omitted: int = 0  # records not kept: over --print-limit, or over MAX_RECORDS here
    notices: list[str] = field(default_factory=list)  # sanitizer lines that are not findings
    program_output: list[str] = field(default_factory=list)  # the program's own lines (a tail)
    sanitizer_lines: int = 0  # lines (text) or elements (XML) recognised as the sanitizer's
    xml: bool = False
    cut_off: str | None = None  # why the report ended early, when it did

    def notice(self, text: str) -> None:
        if len(self.notices) < MAX_NOTICES:
            self.notices.append(text)

    def trouble(self) -> tuple[list[str], list[str]]:
        """What the report says about itself: (errors: it cannot be trusted as clean, warnings)."""
        if self.sanitizer_lines == 0:
            return ["the report is empty or not a compute-sanitizer report (no `=========` line or <ComputeSanitizerOutput>)"], []
        errors, warnings = [], []
        if self.cut_off is not None:
            warnings.append(f"{self.cut_off}; findings after that point are missing")
        elif self.reported is None and not self.xml:
            warnings.append("the report has no ERROR SUMMARY line (cut off?); findings may be missing")
        if self.reported and not self.errors and not self.omitted:
            errors.append(f"the report's summary counts {self.reported} error(s) but no record could be read")
        return errors, warnings

    @property
    def error_count(self) -> int:
        """Errors the run found: the summary's count when it has one, else the records read."""
        if self.reported is not None:
            return self.reported
        return sum(1 for error in self.errors if not error.warning) + self.omitted


_KERNEL_AT = re.compile(r"\bat\s+(?:0x[0-9a-fA-F]+\s+in\s+)?(?P<function>[^\s+][^+]*?)\+0x[0-9a-fA-F]+")
_FRAME = re.compile(r"^Host Frame:\s*(?P<rest>.*?)\s*(?:\[0x[0-9a-fA-F]+\])?(?:\s+in\s+(?P<module>[^\s]+))?\s*$")
_FRAME_LOCATION = re.compile(r"^(?P<function>.*?)\s+in\s+(?P<path>.+?):(?P<line>\d+)$")
_ERROR_SUMMARY = re.compile(r"^ERROR SUMMARY:\s*(\d+) errors?\s*$")
_NOT_PRINTED = re.compile(r"^ERROR SUMMARY:\s*(\d+) errors? were not printed")
_RACE_SUMMARY = re.compile(r"^RACECHECK SUMMARY:\s*(\d+) hazards? displayed \((\d+) errors?, (\d+) warnings?\)")
_HAZARDS = re.compile(r"\[(\d+) hazards?\]")
_RECORD_START = re.compile(r"Race reported|\bat\s+\S+\+0x|Invalid |Uninitialized |Barrier error|Leaked |Program hit ", re.I)


def kernel_base_name(function: str | None) -> str | None:
    """`void foo<float>(float*)` -> `foo`; an `extern "C"` name is itself."""
    if not function:
        return None
    name = function.strip()
    name = re.sub(r"\(.*\)\s*$", "", name)  # parameters
    while "<" in name and name.endswith(">"):  # template arguments
        depth, index = 0, len(name) - 1
        for index in range(len(name) - 1, -1, -1):
            depth += {">": 1, "<": -1}.get(name[index], 0)
            if depth == 0:
                break
        name = name[:index]
    name = name.split()[-1] if name.split() else name
    return name.split("::")[-1] or None


def _kernel_in(lines: Iterable[str]) -> str | None:
    for line in lines:
        match = _KERNEL_AT.search(line)
        if match:
            return kernel_base_name(match.group("function"))
    return None


def parse_frame(text: str) -> HostFrame | None:
    match = _FRAME.match(text.strip())
    if match is None:
        return None
    rest = match.group("rest").strip()
    location = _FRAME_LOCATION.match(rest)
    if location:
        return HostFrame(location.group("function") or None, location.group("path"), int(location.group("line")), match.group("module"))
    return HostFrame(rest or None, None, None, match.group("module"))


class _TextRecord:
    def __init__(self, first: str) -> None:
        self.lines = [first]


def _finish(tool: str, record: _TextRecord, report: SanitizerReport) -> None:
    header, body = record.lines[0], [line.strip() for line in record.lines[1:]]
    if not body and not _RECORD_START.search(header):
        report.notice(header)
        return
    if len(report.errors) >= MAX_RECORDS:
        report.omitted += 1
        return
    warning = header.lower().startswith("warning")
    message = re.sub(r"^(?:Error|Warning):\s*", "", header)
    frames = tuple(frame for line in body if line.startswith("Host Frame") and (frame := parse_frame(line)))
    details = tuple(
        line for line in body if not line.startswith(("Host Frame", "Device Frame", "Saved host backtrace")) and line
    )
    hazards = sum(int(count) for count in _HAZARDS.findall(" ".join([header, *body]))) or 1
    report.errors.append(
        SanitizerError(tool, message, _kernel_in([header, *body]), details, frames, hazards if tool == "racecheck" else 1, warning)
    )


def parse_text(text: str | Iterable[str], tool: str | None = None, program_lines: int = 200) -> SanitizerReport:
    """A text report (the tool's whole output, program lines included). `tool` None: inferred."""
    lines: Iterable[str] = text.splitlines() if isinstance(text, str) else (line.rstrip("\r\n") for line in text)
    if tool is None:  # inference reads the whole report first; callers with a large one name the tool
        lines = list(lines)
        tool = infer_tool(lines)
    chosen = tool
    report = SanitizerReport(chosen)
    record: _TextRecord | None = None
    for raw in lines:
        if not raw.startswith(PREFIX):
            report.program_output.append(raw)
            if len(report.program_output) > program_lines:
                del report.program_output[0]
            continue
        report.sanitizer_lines += 1
        body = raw[len(PREFIX) :]
        body = body[1:] if body.startswith(" ") else body
        if not body.strip():
            if record is not None:
                _finish(chosen, record, report)
                record = None
            continue
        if body.strip() == "COMPUTE-SANITIZER":
            continue
        summary = body.strip()
        if match := _NOT_PRINTED.match(summary):
            report.omitted += int(match.group(1))
            continue
        if match := _ERROR_SUMMARY.match(summary):
            report.reported = int(match.group(1))
            continue
        if match := _RACE_SUMMARY.match(summary):
            report.reported = int(match.group(2))
            continue
        if re.match(r"^[A-Z]+ SUMMARY:", summary):
            report.notice(summary)
            continue
        if body[:1].isspace() and record is not None:
            if len(record.lines) < MAX_RECORD_LINES:
                record.lines.append(body)
        else:
            if record is not None:
                _finish(chosen, record, report)
            record = _TextRecord(body.strip())
    if record is not None:
        _finish(chosen, record, report)
    return report


def infer_tool(lines: Iterable[str]) -> str:
    """Which tool wrote a text report that does not say (the text format never names it)."""
    text = "\n".join(line for line in lines if line.startswith(PREFIX))
    if "RACECHECK SUMMARY" in text or "Race reported" in text:
        return "racecheck"
    if "Uninitialized __" in text or "Unused memory" in text:
        return "initcheck"
    if "Barrier error" in text or "Divergent thread" in text or "synccheck" in text.lower():
        return "synccheck"
    return "memcheck"


def _text_of(element: ElementTree.Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path)
    return found.text.strip() if found is not None and found.text else None


def _xml_record(tool: str, record: ElementTree.Element) -> SanitizerError:
    what = record.find("what")
    message = _text_of(what, "text") or _text_of(record, "kind") or "sanitizer record"
    kernel = kernel_base_name(_text_of(record, "where/func"))
    if kernel is None:  # other layouts (racecheck's accesses): the first device function named
        device_parts = (child for child in record if child.tag != "hostStack")
        kernel = next((kernel_base_name(e.text) for part in device_parts for e in part.iter("func") if e.text), None)
    details = []
    who = record.find("who")
    if who is not None:
        thread = [_text_of(who, f"threadIdx/{axis}") or "?" for axis in "xyz"]
        block = [_text_of(who, f"blockIdx/{axis}") or "?" for axis in "xyz"]
        details.append(f"by thread ({','.join(thread)}) in block ({','.join(block)})")
    address = _text_of(what, "address")
    if address:
        details.append(f"address {address}")
    for role, prefix in (("source", ""), ("destination", "and ")):  # racecheck: the racing accesses
        for access in what.findall(role) if what is not None else []:
            direction = _text_of(access, "direction") or "access"
            where = access.find("where")
            place = f"{_text_of(where, 'func') or '?'}+{_text_of(where, 'pc') or '?'}"
            path, line = _text_of(where, "path"), _text_of(where, "line")
            if path and line:
                place += f" in {path.rsplit('/', 1)[-1]}:{line}"
            count = _text_of(access, "count")
            details.append(f"{prefix}{direction} access at {place}" + (f" [{count} hazards]" if count else ""))
    frames = []
    for frame in record.findall("hostStack/frame"):
        line = _text_of(frame, "line")
        frames.append(
            HostFrame(_text_of(frame, "func"), _text_of(frame, "path"), int(line) if line and line.isdigit() else None, _text_of(frame, "module"))
        )
    hazards = sum(int(text) for e in record.iter() if e.tag in ("hazards", "count") and (text := (e.text or "").strip()).isdigit())
    level = (_text_of(record, "level") or "").lower()
    return SanitizerError(tool, message, kernel, tuple(details), tuple(frames), hazards or 1, level == "warning")


def parse_xml(stream: IO[bytes], tool: str) -> SanitizerReport:
    """An XML report (`--xml --save FILE`); records are read one at a time, so size is bounded by MAX_RECORDS."""
    report = SanitizerReport(tool, xml=True)
    depth = 0
    try:
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 1 and element.tag == "ComputeSanitizerOutput":
                    report.sanitizer_lines += 1
                continue
            depth -= 1
            if element.tag == "record" and depth == 1:
                report.sanitizer_lines += 1
                if len(report.errors) < MAX_RECORDS:
                    report.errors.append(_xml_record(tool, element))
                else:
                    report.omitted += 1
                element.clear()
    except ElementTree.ParseError as error:
        report.cut_off = f"the XML report is cut off or malformed ({error})"
    return report


def looks_like_xml(head: bytes) -> bool:
    return head.lstrip().startswith(b"<?xml") or head.lstrip().startswith(b"<ComputeSanitizerOutput")
