"""compute-sanitizer reports read and placed at launch sites: the real reports from an H100.

tests/fixtures/compute-sanitizer/ holds the reports captured from a probe program (README there);
gpu_probe/ beside them reconstructs the probe's launch functions on the lines its host frames name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from safety_ls.core.settings import GpuSettings, Settings
from safety_ls.gpu.mapping import Workspace, frame_function, map_reports
from safety_ls.gpu.reports import (
    HostFrame,
    kernel_base_name,
    parse_frame,
    parse_text,
    parse_xml,
)
from safety_ls.gpu.runner import import_reports

REPORTS = Path(__file__).parent.parent / "fixtures" / "compute-sanitizer"
PROBE = REPORTS / "gpu_probe"
GPU_CRATE = Path(__file__).parent.parent / "gpu-crate"


def read_text(name: str, tool: str | None = None):
    return parse_text((REPORTS / name).read_text(encoding="utf-8"), tool)


def read_xml(name: str, tool: str):
    with (REPORTS / name).open("rb") as stream:
        return parse_xml(stream, tool)


# --- parsing ----------------------------------------------------------------------------------


def test_memcheck_text_report_records_frames_and_summary():
    report = read_text("memcheck_oob.txt")
    assert report.tool == "memcheck"
    assert len(report.errors) == 3 and report.reported == 1025 and report.omitted == 1022
    first = report.errors[0]
    assert first.message == "Invalid __global__ write of size 4 bytes" and first.kernel == "vector_add"
    assert first.details[:3] == (
        "at vector_add+0x120",
        "by thread (0,0,0) in block (4,0,0)",
        "Access to 0x7f420a803000 is out of bounds",
    )
    assert first.frames[0] == HostFrame("cuLaunchKernel", None, None, "libcuda.so.1")
    assert first.frames[1] == HostFrame("gpu_probe::launch_vector_add_oob::had9a278d25c3e4cf", "main.rs", 129, "gpu_probe")
    assert first.frames[-1] == HostFrame("main", None, None, "gpu_probe")
    assert "cuCtxSynchronize failed with CUresult 719" in report.program_output


def test_initcheck_and_racecheck_are_recognised_without_being_told():
    initcheck = read_text("initcheck_uninit.txt")
    assert (initcheck.tool, initcheck.error_count, initcheck.errors[0].kernel) == ("initcheck", 1024, "scale")
    race = read_text("racecheck_race.txt")
    assert race.tool == "racecheck" and race.reported == 2
    assert [(e.kernel, e.hazards, e.frames) for e in race.errors] == [("block_sum", 117, ()), ("block_sum", 12, ())]
    assert race.errors[0].message == "Race reported between Write access at block_sum+0x140"


def test_clean_reports_have_no_errors():
    text = read_text("memcheck_ok.txt")
    assert (text.errors, text.reported, text.error_count) == ([], 0, 0)
    xml = read_xml("memcheck_ok.xml", "memcheck")
    assert (xml.errors, xml.error_count, xml.notices) == ([], 0, [])


def test_xml_report_carries_paths_relative_to_the_crate():
    report = read_xml("memcheck_oob.xml", "memcheck")
    assert len(report.errors) == 3
    error = report.errors[0]
    assert error.message == "Invalid __global__ write of size 4 bytes is out of bounds" and error.kernel == "vector_add"
    assert error.details == ("by thread (0,0,0) in block (4,0,0)", "address 0x7f738c803000")
    assert error.frames[1] == HostFrame(
        "gpu_probe::launch_vector_add_oob::had9a278d25c3e4cf", "src/main.rs", 129, "/home/dev/gpu_probe/bin/gpu_probe"
    )
    assert read_xml("initcheck_uninit.xml", "initcheck").errors[0].frames[1].line == 152


def test_cut_off_xml_keeps_the_records_before_the_break(tmp_path: Path):
    data = (REPORTS / "memcheck_oob.xml").read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: data.index(b"<record>", data.index(b"</record>")) + 200])
    with cut.open("rb") as stream:
        report = parse_xml(stream, "memcheck")
    assert len(report.errors) == 1 and "cut off or malformed" in (report.cut_off or "")


@pytest.mark.parametrize(
    ("line", "frame"),
    [
        ("Host Frame: cuLaunchKernel [0x39fb94] in libcuda.so.1", HostFrame("cuLaunchKernel", None, None, "libcuda.so.1")),
        ("Host Frame: [0x2a1c9] in libc.so.6", HostFrame(None, None, None, "libc.so.6")),
        (
            "Host Frame: void run<float>(int) in /src/a b/main.cpp:12 [0x10] in app",
            HostFrame("void run<float>(int)", "/src/a b/main.cpp", 12, "app"),
        ),
        ("Host Frame: app::go in /home/x/src/lib.rs:7 [0x1] in app", HostFrame("app::go", "/home/x/src/lib.rs", 7, "app")),
    ],
)
def test_host_frame_forms(line: str, frame: HostFrame):
    assert parse_frame(line) == frame


def test_kernel_names_lose_templates_and_parameters():
    assert kernel_base_name("void reduce<float, 256>(float const*, float*)") == "reduce"
    assert kernel_base_name("ns::kernel(int)") == "kernel"
    assert kernel_base_name("vector_add") == "vector_add"


def test_rust_symbols_give_crate_and_function():
    assert frame_function(HostFrame("gpu_probe::launch_vector_add_oob::had9a278d25c3e4cf", None, None, None)) == (
        "gpu_probe",
        "launch_vector_add_oob",
    )
    assert frame_function(HostFrame("app::run::{{closure}}::h0123456789abcdef", None, None, None)) == ("app", "run")


# --- mapping --------------------------------------------------------------------------------------


def placed(reports, root: Path, settings: Settings | None = None):
    mapped = map_reports(reports, Workspace(root, settings or Settings()), lambda p: p.relative_to(root).as_posix())
    return mapped, sorted((d.path, d.line, d.column, d.message.split(":")[0]) for items in mapped.diagnostics.values() for d in items)


def test_real_reports_land_on_the_probe_launch_lines():
    reports = [read_text("memcheck_oob.txt"), read_text("initcheck_uninit.txt"), read_text("racecheck_race.txt")]
    mapped, found = placed(reports, PROBE)
    assert found == [
        ("src/main.rs", 129, 9, "memcheck"),
        ("src/main.rs", 152, 9, "initcheck"),
        ("src/main.rs", 175, 9, "racecheck"),  # no frames: by kernel name, the one block_sum launch
        ("src/main.rs", 175, 9, "racecheck"),
    ]
    assert mapped.unmapped == {}
    memcheck = next(d for items in mapped.diagnostics.values() for d in items if d.line == 129)
    assert memcheck.message.startswith("memcheck: Invalid __global__ write of size 4 bytes in `vector_add` (3 records printed; the run reported 1025 in all)")
    assert memcheck.rule == "gpu-sanitizer-error" and memcheck.severity.value == "error"


def test_xml_and_text_reports_place_alike():
    _, from_text = placed([read_text("memcheck_oob.txt"), read_text("initcheck_uninit.txt")], PROBE)
    _, from_xml = placed([read_xml("memcheck_oob.xml", "memcheck"), read_xml("initcheck_uninit.xml", "initcheck")], PROBE)
    assert from_text == from_xml


def test_bare_file_name_is_told_apart_by_the_frame_function(tmp_path: Path):
    # Two crates with a main.rs each: the frame's crate and fn pick the probe's.
    (tmp_path / "other" / "src").mkdir(parents=True)
    (tmp_path / "other" / "Cargo.toml").write_text('[package]\nname = "other"\n')
    (tmp_path / "other" / "src" / "main.rs").write_text("fn main() {}\n" * 200)
    probe = tmp_path / "gpu_probe"
    probe.mkdir()
    for part in ("Cargo.toml", "src", "kernels"):
        source = PROBE / part
        if source.is_dir():
            (probe / part).mkdir()
            for file in source.iterdir():
                (probe / part / file.name).write_bytes(file.read_bytes())
        else:
            (probe / part).write_bytes(source.read_bytes())
    _, found = placed([read_text("memcheck_oob.txt")], tmp_path)
    assert found == [("gpu_probe/src/main.rs", 129, 9, "memcheck")]


def test_absolute_paths_from_another_checkout_map_through_build_root():
    frame = HostFrame("gpu_probe::launch_scale_uninit::h0", "/home/dev/gpu_probe/src/main.rs", 152, "gpu_probe")
    settings = Settings(gpu=GpuSettings(build_root="/home/dev/gpu_probe"))
    placement = Workspace(PROBE, settings).place_frame(frame)
    assert placement is not None and placement.path == (PROBE / "src" / "main.rs").resolve()
    assert placement.line == 151 and placement.site is not None and placement.site.kernel == "scale"
    # Without build-root, the trailing path parts still find it.
    assert Workspace(PROBE, Settings()).place_frame(frame) == placement


def test_frames_outside_the_workspace_are_skipped_for_the_next():
    workspace = Workspace(PROBE, Settings())
    rustc = HostFrame("core::ops::function::FnOnce::call_once", "/rustc/abc/library/core/src/ops/function.rs", 250, None)
    assert workspace.resolve(rustc) is None


def test_a_frame_line_without_a_launch_is_reported_on_that_line():
    frame = HostFrame("gpu_probe::main::h0", "src/main.rs", 84, "gpu_probe")
    placement = Workspace(PROBE, Settings()).place_frame(frame)
    assert placement is not None and placement.site is None and placement.line == 83


def test_racecheck_without_launches_falls_back_to_the_kernel_definition(tmp_path: Path):
    (tmp_path / "k.cu").write_text('// kernels\nextern "C" __global__ void block_sum(float* x) {}\n')
    mapped, found = placed([read_text("racecheck_race.txt")], tmp_path)
    assert found == [("k.cu", 2, 1, "racecheck"), ("k.cu", 2, 1, "racecheck")]


def test_findings_with_no_place_are_counted_not_dropped(tmp_path: Path):
    mapped, found = placed([read_text("memcheck_oob.txt")], tmp_path)
    assert found == []
    assert list(mapped.unmapped.values()) == [3]
    assert "vector_add" in next(iter(mapped.unmapped))


# --- the command line -------------------------------------------------------------------------------


def validate(*args: str, cwd: Path = REPORTS) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "safety_ls", "validate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )


def test_validate_report_prints_json_at_the_launch_lines():
    result = validate("gpu_probe", "--report", "memcheck_oob.txt", "initcheck_uninit.xml", "racecheck_race.txt", "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert [(d["path"], d["line"], d["rule"]) for d in document["diagnostics"]] == [
        ("gpu_probe/src/main.rs", 129, "gpu-sanitizer-error"),
        ("gpu_probe/src/main.rs", 152, "gpu-sanitizer-error"),
        ("gpu_probe/src/main.rs", 175, "gpu-sanitizer-error"),
        ("gpu_probe/src/main.rs", 175, "gpu-sanitizer-error"),
    ]


def test_validate_report_text_and_sarif():
    text = validate("gpu_probe", "--report", "memcheck_oob.txt")
    assert text.returncode == 1
    assert "gpu_probe/src/main.rs:129:9: gpu-sanitizer-error memcheck: Invalid __global__ write" in text.stdout
    assert "129 |         cuLaunchKernel(f, 8, 1, 1, 256" in text.stdout
    sarif = json.loads(validate("gpu_probe", "--report", "racecheck_race.txt", "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"gpu-sanitizer-error"} and len(results) == 2
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 175


def test_validate_clean_report_exits_zero():
    result = validate("gpu_probe", "--report", "memcheck_ok.txt", "memcheck_ok.xml")
    assert (result.returncode, result.stdout.strip()) == (0, "No sanitizer findings.")


def test_validate_missing_report_is_an_error():
    result = validate("gpu_probe", "--report", "nope.txt")
    assert result.returncode == 2 and "no such report: nope.txt" in result.stderr


def test_gzipped_reports_are_read(tmp_path: Path):
    import gzip

    packed = tmp_path / "memcheck_oob.txt.gz"
    packed.write_bytes(gzip.compress((REPORTS / "memcheck_oob.txt").read_bytes()))
    (report,) = import_reports([packed], None)
    assert report.tool == "memcheck" and report.reported == 1025
