"""The audit as a large codebase needs it, through the real CLI and real headless Chromium.

A generated Cargo workspace: a crate with many undocumented sites on long lines, a
crate without unsafe code, tests / examples / benches beside `src`, SIMD code. Checked:
the risk levels and overall risk in Markdown, JSON and HTML; crates without unsafe
folded; one "Categories" section; Markdown sections numbered without gaps; the split
by Cargo target and `--targets`; the SIMD category; and the page in Chromium at 1280
and 390 px: no horizontal scrolling, with every foldable section open. Screenshots go
to test-artifacts/audit/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from png_pixels import colour_counts, read_rgb

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "audit"
CHROMIUM = shutil.which("chromium")

LONG_BLOCK = (
    "    let value_from_the_device_buffer_with_a_long_name = unsafe {{ *pointer_into_the_staging_area_{n}"
    ".add(offset_of_the_element_in_the_staging_area) }};\n"
)


def _crate(root: Path, name: str, files: dict[str, str]) -> None:
    crate = root / "crates" / name
    (crate / "Cargo.toml").parent.mkdir(parents=True, exist_ok=True)
    (crate / "Cargo.toml").write_text(f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n')
    for relative, text in files.items():
        (crate / relative).parent.mkdir(parents=True, exist_ok=True)
        (crate / relative).write_text(text)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big") / "big-workspace"
    root.mkdir()
    (root / "Cargo.toml").write_text('[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n')
    many = "".join(f"pub fn staged_{n}(pointer_into_the_staging_area_{n}: *const f32, offset_of_the_element_in_the_staging_area: usize) -> f32 {{\n"
                   + LONG_BLOCK.format(n=n) + "    value_from_the_device_buffer_with_a_long_name\n}\n" for n in range(40))
    _crate(root, "staging", {
        "src/lib.rs": many + "pub mod the_staging_area_for_device_buffers_that_are_copied_back_to_the_host;\n",
        # A long path with no break opportunity: what made the table wider than a laptop's screen.
        "src/the_staging_area_for_device_buffers_that_are_copied_back_to_the_host.rs": (
            "pub fn read_back_the_element_of_the_staging_area_buffer(p: *const f32) -> f32 {\n    unsafe { *p }\n}\n"
        ),
        "tests/roundtrip.rs": "#[test]\nfn reads() {\n    let x = 1u8;\n    let p = &x as *const u8;\n    assert_eq!(unsafe { *p }, 1);\n}\n",
        "examples/demo.rs": "fn main() {\n    let x = 1u8;\n    let p = &x as *const u8;\n    // SAFETY: p points to x, alive here.\n    println!(\"{}\", unsafe { *p });\n}\n",
        "benches/speed.rs": "fn main() {\n    let v = [1u8];\n    let _ = unsafe { *v.as_ptr() };\n}\n",
    })
    _crate(root, "simd", {"src/lib.rs": (
        "use std::arch::x86_64::*;\n\n"
        "#[target_feature(enable = \"avx2\")]\n"
        "unsafe fn total(values: &[f32]) -> f32 {\n    values.iter().sum()\n}\n\n"
        "pub fn dot(a: &[f32]) -> f32 {\n    unsafe {\n        let x = _mm256_loadu_ps(a.as_ptr());\n        let _ = x;\n    }\n    0.0\n}\n"
    )})
    _crate(root, "pure", {"src/lib.rs": "pub fn add(a: u32, b: u32) -> u32 {\n    a.wrapping_add(b)\n}\n"})
    _crate(root, "plain", {"src/lib.rs": "pub fn one() -> u32 {\n    1\n}\n"})
    return root


def audit(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "safety_ls", "audit", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, "SOURCE_DATE_EPOCH": "1760000000"},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def audit_json(*args: str | Path, cwd: Path) -> dict:
    done = audit(*args, "--format", "json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- categories, risk ---------------------------------------------------------------------------


def test_target_feature_fns_and_intrinsics_are_the_simd_category(workspace: Path) -> None:
    report = audit_json(".", cwd=workspace)
    simd = [(s["line"], s["kind"], s["category"]) for s in report["sites"] if s["crate"] == "simd"]
    assert simd == [(4, "fn", "SIMD"), (9, "block", "SIMD")]
    assert report["summary"]["categories"]["SIMD"]["total"] == 2


def test_categories_carry_risk_and_status_and_the_summary_an_overall_risk(workspace: Path) -> None:
    summary = audit_json(".", cwd=workspace)["summary"]
    raw = summary["categories"]["raw pointer dereference"]
    assert (raw["risk"], raw["status"]) == ("MEDIUM", "needs docs")
    assert summary["categories"]["transmute"] == {**summary["categories"]["transmute"], "risk": "HIGH", "status": "approved"}
    assert summary["overall_risk"] == "MEDIUM"  # no HIGH-risk category needs docs here


def test_markdown_sections_are_numbered_without_gaps(workspace: Path) -> None:
    text = audit(".", cwd=workspace).stdout
    sections = [int(number) for number in re.findall(r"^## (\d+)\. ", text, re.M)]
    assert sections == list(range(1, len(sections) + 1))
    for section in sections:
        subsections = [int(n) for n in re.findall(rf"^### {section}\.(\d+) ", text, re.M)]
        assert subsections == list(range(1, len(subsections) + 1))
    assert "**Overall Risk**: MEDIUM" in text


def test_markdown_folds_crates_without_unsafe_into_one_line(workspace: Path) -> None:
    text = audit(".", cwd=workspace).stdout
    assert "Crates without unsafe code (2): plain, pure." in text
    assert "| pure |" not in text and "| plain |" not in text


# --- Cargo targets ------------------------------------------------------------------------------


def test_sites_and_the_summary_are_split_by_cargo_target(workspace: Path) -> None:
    report = audit_json(".", cwd=workspace)
    staging = {s["target"] for s in report["sites"] if s["crate"] == "staging"}
    assert staging == {"src", "tests", "examples", "benches"}
    targets = report["summary"]["targets"]
    assert list(targets) == ["src", "tests", "examples", "benches"]
    assert targets["tests"]["sites"] == {"total": 1, "documented": 0, "placeholder": 0, "undocumented": 1}
    assert targets["examples"]["sites"]["documented"] == 1
    assert targets["src"]["sites"]["total"] == 43  # 41 staging blocks and the two SIMD sites
    text = audit(".", cwd=workspace).stdout
    assert re.search(r"^\| Tests \| 1 \| 1 \| 0 \(0\.0%\) \|", text, re.M)


def test_targets_option_audits_only_the_chosen_targets(workspace: Path) -> None:
    report = audit_json(".", "--targets", "src", cwd=workspace)
    assert {s["target"] for s in report["sites"]} == {"src"}
    assert report["targets_audited"] == ["src"]
    assert report["summary"]["sites"]["total"] == 43
    both = audit_json(".", "--targets", "src,tests", cwd=workspace)
    assert both["summary"]["sites"]["total"] == 44
    assert "(audited: src)" in audit(".", "--targets", "src", cwd=workspace).stdout


def test_an_unknown_target_is_a_usage_error(workspace: Path) -> None:
    done = audit(".", "--targets", "src,docs", cwd=workspace)
    assert done.returncode == 2 and "unknown target 'docs'" in done.stderr


# --- HTML ---------------------------------------------------------------------------------------


def test_html_shows_overall_risk_and_each_categorys_risk_and_status(workspace: Path) -> None:
    page = audit(".", "--format", "html", cwd=workspace).stdout
    assert '<div class="card risk-MEDIUM"><b>MEDIUM</b><span>overall risk</span></div>' in page
    assert "<th>Risk level</th><th>Status</th>" in page
    assert re.search(r"<td>SIMD</td>.*?risk-MEDIUM.*?needs docs", page)
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert len(headings) == len(set(headings)), headings
    assert not any(h == "Categories" for h in headings)


def test_html_folds_crates_without_unsafe_and_groups_undocumented_sites_by_crate(workspace: Path) -> None:
    page = audit(".", "--format", "html", cwd=workspace).stdout
    assert "<details><summary>2 crates without unsafe code</summary><p>plain, pure</p></details>" in page
    assert "<td>pure</td>" not in page
    summaries = re.findall(r"<details><summary><b>(.*?)</b>: (\d+) ", page)
    assert summaries == [("staging", "43"), ("simd", "2")]


def _rendered(page: Path, width: int, tmp_path: Path) -> tuple[int, Path]:
    """Opens `page` at `width` px in headless Chromium: how many px it scrolls sideways with every
    <details> open (a measuring script is added to a copy; the report itself has none), and a screenshot."""
    measured = tmp_path / f"measured-{width}.html"
    probe = (
        "<script>document.querySelectorAll('details').forEach(d => d.open = true);"
        "document.body.setAttribute('data-overflow', document.documentElement.scrollWidth - document.documentElement.clientWidth);</script>"
    )
    measured.write_text(page.read_text(encoding="utf-8").replace("</body>", probe + "</body>"), encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"audit-{width}px.png"
    common = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--hide-scrollbars", f"--window-size={width},1000"]
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run([CHROMIUM, *common, f"--user-data-dir={profile}", "--dump-dom", measured.as_uri()],
                             capture_output=True, text=True, timeout=120, check=True).stdout
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, *common, f"--user-data-dir={profile}", f"--screenshot={shot}", page.as_uri()],
                       capture_output=True, timeout=120, check=True)
    overflow = int(re.search(r'data-overflow="(-?\d+)"', dom).group(1))
    return overflow, shot


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/install-chromium.sh installs it)")
@pytest.mark.parametrize("width", [1280, 390])
def test_html_page_never_scrolls_sideways_on_a_laptop_or_a_phone(workspace: Path, tmp_path: Path, width: int) -> None:
    page = tmp_path / "audit.html"
    assert audit(".", "--format", "html", "--output", page, cwd=workspace).returncode == 0
    overflow, shot = _rendered(page, width, tmp_path)
    assert overflow <= 0, f"the page scrolls {overflow} px sideways at {width} px"
    image_width, _, rows = read_rgb(shot.read_bytes())
    assert image_width == width
    _, most = colour_counts(rows).most_common(1)[0]
    assert most < 0.97 * width * 1000, "the page rendered (almost) blank"


def test_the_page_is_written_with_the_users_umask(workspace: Path, tmp_path: Path) -> None:
    """A CI job publishes the page: 0644 under the usual umask, not the 0600 of a temporary file."""
    page = tmp_path / "audit.html"
    done = subprocess.run(
        [sys.executable, "-m", "safety_ls", "audit", ".", "--format", "html", "--output", str(page)],
        cwd=workspace, capture_output=True, timeout=300, preexec_fn=lambda: os.umask(0o022),
    )
    assert done.returncode == 0, done.stderr
    assert page.stat().st_mode & 0o777 == 0o644
