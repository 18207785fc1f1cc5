"""The real end-to-end run: `safety-ls validate` on an H100 against tests/gpu-crate, as recorded.

CI has no GPU, so the run was made on the device machine and its output committed in
tests/fixtures/gpu-run/ (README there: when, where, how, what it showed). These tests check
the recording against the test crate's source: the findings stand on the planted launches and
the correct launch is clean; and importing the raw reports again places them the same way.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from safety_ls.core.parsing import build_units, parse
from safety_ls.core.source import SourceText
from safety_ls.facts.launches import find_launches

RUN = Path(__file__).parent.parent / "fixtures" / "gpu-run"
CRATE = Path(__file__).parent.parent / "gpu-crate"
# Each launch function of the test crate and the tool that must report it (None: the correct one).
PLANTED = {
    "launch_vector_add": None,
    "launch_scale_uninit": "initcheck",
    "launch_block_sum_race": "racecheck",
    "launch_vector_add_oob": "memcheck",
}


def launch_lines() -> dict[str, int]:
    """1-based line of each launch function's launch in the crate's main.rs."""
    data = (CRATE / "src" / "main.rs").read_bytes()
    unit = build_units(parse(data), data, re.compile(rb"launch|unsafe"))
    source = SourceText(data)
    return {site.function: source.line_of(site.start) + 1 for site in find_launches(unit) if site.function}


def expected() -> set[tuple[int, str]]:
    lines = launch_lines()
    return {(lines[function], tool) for function, tool in PLANTED.items() if tool is not None}


def placements(document: dict) -> set[tuple[int, str]]:
    assert all(d["path"] == "src/main.rs" and d["rule"] == "gpu-sanitizer-error" for d in document["diagnostics"])
    return {(d["line"], d["message"].split(":")[0]) for d in document["diagnostics"]}


def test_the_planted_launches_are_where_the_recording_says():
    assert launch_lines() == {
        "launch_vector_add": 118,
        "launch_scale_uninit": 146,
        "launch_block_sum_race": 179,
        "launch_vector_add_oob": 205,
    }, "main.rs changed since the recorded run: run tests/fixtures/gpu-run/run.sh on a GPU again"


def test_recorded_run_reports_each_defect_on_its_launch_and_nothing_on_the_correct_one():
    document = json.loads((RUN / "validate.json").read_text())
    assert placements(document) == expected()
    correct = launch_lines()["launch_vector_add"]
    assert all(d["line"] != correct for d in document["diagnostics"])
    racecheck = [d for d in document["diagnostics"] if d["message"].startswith("racecheck")]
    assert len(racecheck) == 2 and all("block_sum" in d["message"] for d in racecheck)


def test_recorded_xml_run_places_the_same():
    assert placements(json.loads((RUN / "validate-xml.json").read_text())) == expected()


def test_recorded_runs_used_error_exitcode_and_got_it_back():
    for directory in ("reports", "reports-xml"):
        runs = json.loads((RUN / directory / "runs.json").read_text())
        assert [(r["tool"], r["returncode"]) for r in runs] == [
            ("memcheck", 86), ("racecheck", 86), ("initcheck", 86), ("synccheck", 0)
        ]
        for run in runs:
            argv = run["argv"]
            assert argv[argv.index("--error-exitcode") + 1] == "86"
            assert ("--xml" in argv) == (directory == "reports-xml")
            if "--xml" in argv:
                assert argv[argv.index("--xml") + 1] == "--save"
    stderr = (RUN / "validate.stderr").read_text()
    assert "memcheck: exit 86, 1025 error(s)" in stderr and "synccheck: exit 0, 0 error(s)" in stderr


def reimport(*reports: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "safety_ls", "validate", str(CRATE), "--format", "json", "--report", *(str(RUN / r) for r in reports)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CRATE,
    )


def test_raw_text_reports_imported_again_give_the_recorded_diagnostics():
    result = reimport("reports/memcheck.txt.gz", "reports/racecheck.txt", "reports/initcheck.txt.gz", "reports/synccheck.txt")
    assert result.returncode == 1, result.stderr
    reimported = json.loads(result.stdout)
    # The JSON contract gained "errors" (files that could not be checked) after the H100 run was recorded.
    assert reimported.pop("errors") == []
    assert reimported == json.loads((RUN / "validate.json").read_text())


def test_raw_xml_reports_imported_again_land_on_the_same_lines():
    result = reimport("reports-xml/memcheck.xml.gz", "reports-xml/racecheck.xml", "reports-xml/initcheck.xml.gz", "reports-xml/synccheck.xml")
    assert result.returncode == 1, result.stderr
    assert placements(json.loads(result.stdout)) == expected()


def test_recorded_text_output_quotes_the_planted_lines():
    text = (RUN / "validate.txt").read_text()
    for line in sorted(line for line, _ in expected()):
        assert f"src/main.rs:{line}:17: gpu-sanitizer-error" in text
    assert "Found 4 findings in 1 file." in text
