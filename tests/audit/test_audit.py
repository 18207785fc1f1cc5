"""`safety-ls audit`: the real CLI over a multi-crate Cargo workspace, its Markdown, JSON and HTML, gates and compare.

The fixture (tests/fixtures/audit/workspace) marks every site on its own line with
`//~ audit: kind, category, annotation` (unsafe blocks, fns and impls) or
`//~ audit: TAG, annotation` (PROMOTE, CONTIGUOUS, CAST); `expected.json` beside it
gives the crates and their line counts. Expected counts are computed from those.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from png_pixels import colour_counts, read_rgb
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient
from safety_ls.audit.html import DOCUMENTED, UNDOCUMENTED

WORKSPACE = Path(__file__).parent.parent / "fixtures" / "audit" / "workspace"
EXPECTED = json.loads((WORKSPACE / "expected.json").read_text(encoding="utf-8"))
MARKER = re.compile(r"//~ audit: (?P<fields>.+)$")
TAGS = ("PROMOTE", "CONTIGUOUS", "CAST")
CATEGORIES = (
    "device allocation", "kernel launch", "FFI call", "mmap", "raw pointer dereference", "transmute", "Send/Sync", "SIMD", "other",
)
CHROMIUM = shutil.which("chromium")


def audit(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "SOURCE_DATE_EPOCH": "1760000000", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "safety_ls", "audit", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, env=environment, timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def audit_json(*args: str | Path, cwd: Path) -> dict:
    done = audit(*args, "--format", "json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    """A copy of the fixture workspace, free to edit."""
    copy = tmp_path / "workspace"
    shutil.copytree(WORKSPACE, copy)
    return copy


def marked_sites(root: Path) -> tuple[list[tuple[str, int, str, str, str]], dict[tuple[str, str], list[str]]]:
    """(path, line, kind, category, annotation) of the unsafe sites, and {(crate path, tag): [annotation, ...]}."""
    sites, annotations = [], {}
    for path in sorted(root.rglob("*.rs")):
        relative = path.relative_to(root).as_posix()
        crate = "/".join(relative.split("/")[:2])
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = MARKER.search(line)
            if not match:
                continue
            fields = [field.strip() for field in match.group("fields").split(",")]
            if fields[0] in TAGS:
                annotations.setdefault((crate, fields[0]), []).append(fields[1])
            else:
                sites.append((relative, number, *fields))
    return sites, annotations


def expected_crates() -> dict[str, dict]:
    """Per crate path: what expected.json says, plus the counts the markers imply."""
    sites, annotations = marked_sites(WORKSPACE)
    crates = {}
    for crate in EXPECTED["crates"]:
        mine = [site for site in sites if site[0].startswith(crate["path"] + "/")]
        written = [site for site in mine if site[4] == "written"]
        counts = dict(crate)
        for kind in ("block", "fn", "impl"):
            counts[f"unsafe_{kind}s"] = {
                "total": sum(site[2] == kind for site in mine),
                "documented": sum(site[2] == kind for site in written),
            }
        counts["sites"] = {
            "total": len(mine),
            "documented": len(written),
            "placeholder": sum(site[4] == "placeholder" for site in mine),
            "undocumented": len(mine) - len(written),
        }
        counts["categories"] = {
            category: (sum(site[3] == category for site in mine), sum(site[3] == category for site in written))
            for category in CATEGORIES
        }
        counts["annotations"] = {
            tag: (len(annotations.get((crate["path"], tag), [])), annotations.get((crate["path"], tag), []).count("written"))
            for tag in TAGS
        }
        crates[crate["path"]] = counts
    return crates


# --- the inventory ----------------------------------------------------------------------------


def test_workspace_members_from_cargo_toml_are_the_crates() -> None:
    report = audit_json(".", cwd=WORKSPACE)
    assert [(c["name"], c["path"]) for c in report["crates"]] == [(c["name"], c["path"]) for c in EXPECTED["crates"]]
    assert report["summary"]["crates"] == 3
    assert report["errors"] == [] and report["warnings"] == []


def test_every_marked_site_is_found_with_its_kind_category_and_annotation() -> None:
    report = audit_json(".", cwd=WORKSPACE)
    found = [(s["path"], s["line"], s["kind"], s["category"], s["annotation"]) for s in report["sites"]]
    sites, _ = marked_sites(WORKSPACE)
    assert sorted(found) == sorted(sites)
    by_path = {crate["path"]: crate["name"] for crate in report["crates"]}
    assert all(s["crate"] == by_path["/".join(s["path"].split("/")[:2])] for s in report["sites"])


def test_crate_counts_match_the_fixture_expectations() -> None:
    report = audit_json(".", cwd=WORKSPACE)
    expected = expected_crates()
    for crate in report["crates"]:
        want = expected[crate["path"]]
        for key in ("files", "lines", "unsafe_lines", "unsafe_blocks", "unsafe_fns", "unsafe_impls", "sites"):
            assert crate[key] == want[key], (crate["name"], key)
        assert crate["unsafe_percent"] == (round(100 * want["unsafe_lines"] / want["lines"], 2) if want["lines"] else None)
        assert {name: (c["total"], c["documented"]) for name, c in crate["categories"].items()} == want["categories"]
        assert {tag: (c["sites"], c["annotated"]) for tag, c in crate["annotations"].items()} == want["annotations"]
    total = report["summary"]
    assert total["sites"]["total"] == sum(c["sites"]["total"] for c in expected.values()) == 17
    assert total["lines"] == sum(c["lines"] for c in EXPECTED["crates"])


def test_a_placeholder_justification_does_not_count_as_documented() -> None:
    report = audit_json(".", cwd=WORKSPACE)
    (site,) = [s for s in report["sites"] if s["annotation"] == "placeholder"]
    assert site["documented"] is False and site["path"] == "crates/gpu/src/ffi.rs"


def test_plain_directory_of_rust_files_is_one_crate(tmp_path: Path) -> None:
    code = tmp_path / "kernels"
    code.mkdir()
    (code / "a.rs").write_text("fn f(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n", encoding="utf-8")
    (code / "b.rs").write_text("// SAFETY: the handle is only used behind a Mutex.\nunsafe impl Send for H {}\n", encoding="utf-8")
    report = audit_json("kernels", cwd=tmp_path)
    assert [(c["name"], c["path"], c["files"], c["lines"]) for c in report["crates"]] == [("kernels", ".", 2, 5)]
    assert report["summary"]["sites"] == {"total": 2, "documented": 1, "placeholder": 0, "undocumented": 1}


def test_single_file_belongs_to_the_crate_of_its_manifest() -> None:
    report = audit_json("crates/tui/src/lib.rs", cwd=WORKSPACE)
    assert [(c["name"], c["files"], c["lines"]) for c in report["crates"]] == [("demo-tui", 1, 43)]
    assert {s["path"] for s in report["sites"]} == {"lib.rs"}


def test_report_paths_do_not_depend_on_the_working_directory(workspace: Path) -> None:
    from_inside = audit_json(".", cwd=workspace)
    from_outside = audit_json(workspace, cwd=workspace.parent)
    assert from_inside["sites"] == from_outside["sites"]


# --- Markdown ---------------------------------------------------------------------------------


def markdown_table(text: str, header: str) -> list[list[str]]:
    """The rows (cells stripped) of the table whose header row starts with `header`."""
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(f"| {header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_markdown_crate_table_shows_each_crates_counts() -> None:
    done = audit(".", cwd=WORKSPACE)
    assert done.returncode == 0, done.stderr
    expected = expected_crates()
    rows = markdown_table(done.stdout, "Crate | Unsafe Blocks")
    by_name = {row[0]: row for row in rows}
    # demo-core has no unsafe code: it is named once below the table instead of a row of zeros.
    assert set(by_name) == {"demo-gpu", "demo-tui"}
    assert "Crates without unsafe code (1): demo-core." in done.stdout
    for crate in EXPECTED["crates"]:
        want = expected[crate["path"]]
        if crate["name"] == "demo-core":
            assert want["sites"]["total"] == 0
            continue
        row = by_name[crate["name"]]
        assert row[1:4] == [str(want[f"unsafe_{kind}s"]["total"]) for kind in ("block", "fn", "impl")]
        share = 100 * want["unsafe_lines"] / want["lines"]
        assert row[4] == f"{share:.1f}%"
        assert row[5] == f"{want['sites']['documented']}/{want['sites']['total']}"
    assert by_name["demo-gpu"][6] == "⚠️ 6 undocumented"
    assert "**Last Audit Date**: 2025-10-09" in done.stdout  # SOURCE_DATE_EPOCH


def test_markdown_inventory_table_counts_each_category() -> None:
    done = audit(".", cwd=WORKSPACE)
    rows = {row[0]: row for row in markdown_table(done.stdout, "Category | Count")}
    sites, _ = marked_sites(WORKSPACE)
    labels = {"device allocation": "Device Allocation", "kernel launch": "Kernel Launch", "FFI call": "FFI Call",
              "mmap": "Memory-mapped Files", "raw pointer dereference": "Raw Pointer Deref", "transmute": "Transmute",
              "Send/Sync": "Send/Sync Impls", "other": "Other"}
    for category, label in labels.items():
        total = sum(site[3] == category for site in sites)
        documented = sum(site[3] == category and site[4] == "written" for site in sites)
        if not total:
            assert label not in rows
            continue
        assert rows[label][1] == str(total)
        assert rows[label][2].startswith(f"{documented} (")
        assert rows[label][4] == ("✅ APPROVED" if documented == total else "⚠️ NEEDS DOCS")
    assert rows["Transmute"][3] == "HIGH" and rows["Memory-mapped Files"][3] == "LOW"


def test_markdown_lists_the_undocumented_sites_and_annotation_coverage() -> None:
    done = audit(".", cwd=WORKSPACE)
    rows = markdown_table(done.stdout, "Location | Kind")
    sites, annotations = marked_sites(WORKSPACE)
    undocumented = sorted((f"`{s[0]}:{s[1]}`", s[3]) for s in sites if s[4] != "written")
    assert sorted((row[0], row[2]) for row in rows) == undocumented
    assert ["`crates/gpu/src/ffi.rs:25`", "unsafe block (placeholder)", "FFI call", "demo-gpu"] in rows
    coverage = {row[0]: row[1:] for row in markdown_table(done.stdout, "Annotation | Sites")}
    for tag in TAGS:
        states = annotations[("crates/core", tag)]
        assert coverage[f"`// {tag}:`"][:2] == [str(len(states)), str(states.count("written"))]
    assert coverage["`// CAST:`"][2] == "25.0%"


def test_project_template_replaces_the_markdown_report(workspace: Path) -> None:
    (workspace / "safety-ls.toml").write_text('template-dir = "templates"\n', encoding="utf-8")
    (workspace / "templates" / "reports").mkdir(parents=True)
    (workspace / "templates" / "reports" / "audit.md.j2").write_text(
        "{% for crate in report.crates %}{{ crate.name }}={{ crate.sites.undocumented }}\n{% endfor %}", encoding="utf-8"
    )
    done = audit(".", cwd=workspace)
    assert done.stdout == "demo-core=0\ndemo-gpu=6\ndemo-tui=4\n"


def test_broken_project_template_falls_back_to_the_shipped_one(workspace: Path) -> None:
    (workspace / "safety-ls.toml").write_text('template-dir = "templates"\n', encoding="utf-8")
    (workspace / "templates" / "reports").mkdir(parents=True)
    (workspace / "templates" / "reports" / "audit.md.j2").write_text("{{ report.__class__.__mro__ }}", encoding="utf-8")
    done = audit(".", cwd=workspace)
    assert done.returncode == 0
    assert "# Unsafe Code Audit" in done.stdout
    assert "template reports/audit.md.j2" in done.stderr and "the built-in template was used" in done.stderr


# --- gates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ([], 0),
        (["--max-undocumented", "10"], 0),  # 10 undocumented sites (the placeholder is one)
        (["--max-undocumented", "9"], 1),
        (["--max-unsafe-percent", "21"], 0),  # demo-gpu: 19 of 94 lines (20.21%)
        (["--max-unsafe-percent", "20"], 1),
        (["--max-unsafe-percent", "21", "--max-undocumented", "9"], 1),
        (["--max-undocumented", "-1"], 2),
        (["--max-unsafe-percent", "101"], 2),
        (["--max-unsafe-percent", "many"], 2),
    ],
)
def test_gate_exit_codes(options: list[str], code: int) -> None:
    assert audit(".", "--format", "json", *options, cwd=WORKSPACE).returncode == code


def test_failed_gate_names_the_crates_and_is_in_the_report(tmp_path: Path) -> None:
    done = audit(WORKSPACE, "--format", "json", "--max-unsafe-percent", "5", "--output", tmp_path / "r.json", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "gate --max-unsafe-percent FAILED: over 5% of lines inside unsafe: demo-gpu 20.21%, demo-tui 16.28%" in done.stderr
    (gate,) = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["gates"]
    assert gate["passed"] is False and gate["crates_over"] == ["demo-gpu", "demo-tui"] and gate["value"] == 20.21


def test_errors_exit_2_and_unreadable_files_are_listed(tmp_path: Path) -> None:
    assert audit(tmp_path / "missing", cwd=tmp_path).returncode == 2
    (tmp_path / "bad.rs").write_bytes(b"fn f() { unsafe { g() } }\n\xff\n")
    (tmp_path / "good.rs").write_text("fn f() { unsafe { g() } }\n", encoding="utf-8")
    done = audit(".", "--format", "json", cwd=tmp_path)
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert [e["path"] for e in report["errors"]] == ["bad.rs"] and "invalid UTF-8" in report["errors"][0]["error"]
    assert report["summary"]["sites"]["total"] == 1


# --- compare ----------------------------------------------------------------------------------


def test_compare_reports_new_and_newly_documented_sites_by_fingerprint(workspace: Path) -> None:
    assert audit(".", "--format", "json", "--output", "before.json", cwd=workspace).returncode == 0
    tui = workspace / "crates" / "tui" / "src" / "lib.rs"
    text = tui.read_text(encoding="utf-8")
    # Lines inserted above every site, one site documented, one added, one removed.
    text = "//! Reworked.\n\nuse std::fmt;\n\n" + text
    text = text.replace(
        "        unsafe { std::slice::from_raw_parts(",
        "        // SAFETY: `handle` points to at least `len` initialized bytes owned by the window.\n"
        "        unsafe { std::slice::from_raw_parts(",
    )
    text = text.replace("    unsafe { memmap2::Mmap::map(file) } //~ audit: block, mmap, missing\n", "    memmap2::Mmap::open(file)\n")
    text += "\npub fn peek(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n"
    tui.write_text(text, encoding="utf-8")
    done = audit(".", "--format", "json", "--compare", "before.json", cwd=workspace)
    assert done.returncode == 0, done.stderr
    compare = json.loads(done.stdout)["compare"]
    where = lambda sites: [(s["path"], s["line"], s["category"]) for s in sites]  # noqa: E731
    assert where(compare["new_undocumented"]) == [("crates/tui/src/lib.rs", 51, "raw pointer dereference")]
    assert where(compare["newly_documented"]) == [("crates/tui/src/lib.rs", 27, "raw pointer dereference")]
    assert [(s["path"], s["line"]) for s in compare["removed_undocumented"]] == [("crates/tui/src/lib.rs", 32)]
    assert (compare["previous_undocumented"], compare["undocumented"]) == (10, 9)
    assert compare["previous_date"] == "2025-10-09"


def test_compare_section_in_markdown_and_unchanged_code_has_no_changes(workspace: Path) -> None:
    audit(".", "--format", "json", "--output", "before.json", cwd=workspace)
    done = audit(".", "--compare", "before.json", cwd=workspace)
    assert "### 2.7 Changes Since the Last Audit (2025-10-09)" in done.stdout
    assert "Undocumented sites: 10 then, 10 now." in done.stdout
    assert "**New undocumented sites**: none." in done.stdout
    assert "**Newly documented sites**: none." in done.stdout


def test_compare_with_a_report_of_the_same_name_as_the_output(workspace: Path) -> None:
    audit(".", "--format", "json", "--output", "audit.json", cwd=workspace)
    done = audit(".", "--format", "json", "--output", "audit.json", "--compare", "audit.json", cwd=workspace)
    assert done.returncode == 0
    assert json.loads((workspace / "audit.json").read_text(encoding="utf-8"))["compare"]["new_undocumented"] == []


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("{", "not JSON"), ('{"version": 7}', "not a safety-ls audit report"),
     ('{"version": 1, "sites": [{"path": "a.rs"}]}', "`sites` must list objects")],
)
def test_bad_compare_file_is_an_error(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "old.json").write_text(content, encoding="utf-8")
    done = audit(WORKSPACE, "--compare", tmp_path / "old.json", cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "old.json" in done.stderr


# --- HTML -------------------------------------------------------------------------------------


def test_html_page_is_self_contained(tmp_path: Path) -> None:
    done = audit(WORKSPACE, "--format", "html", "--max-undocumented", "3", cwd=tmp_path)
    page = done.stdout
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "://" not in page  # no external stylesheet, font, script or image
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    assert page.count("<svg") == 4
    assert "demo-gpu" in page and "crates/gpu/src/launch.rs:26" in page
    assert "CI gates: failed" in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/install-chromium.sh installs it)")
def test_html_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "audit.html"
    assert audit(WORKSPACE, "--format", "html", "--output", page, cwd=tmp_path).returncode == 0
    shot = tmp_path / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={shot}",
             "--window-size=1200,900", page.as_uri()],
            capture_output=True, timeout=120, check=True,
        )
    width, height, rows = read_rgb(shot.read_bytes())
    assert (width, height) == (1200, 900)
    colours = colour_counts(rows)
    background, most = colours.most_common(1)[0]
    assert most < 0.95 * width * height, "the page rendered (almost) blank"
    assert len(colours) > 50  # text, cards and bars, anti-aliased
    rgb = lambda code: tuple(int(code[i : i + 2], 16) for i in (1, 3, 5))  # noqa: E731
    # The per-crate bars: documented (green) and undocumented (red) segments, drawn as filled rectangles.
    assert colours[rgb(DOCUMENTED)] > 500 and colours[rgb(UNDOCUMENTED)] > 500


# --- the language server ----------------------------------------------------------------------


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "safety_ls", "serve", "--stdio"]))
async def client(lsp_client: LanguageClient):
    yield
    if lsp_client.capabilities is not None and lsp_client._server is not None and lsp_client._server.returncode is None:
        await asyncio.wait_for(lsp_client.shutdown_session(), 10)


@pytest.mark.asyncio
async def test_audit_workspace_command_returns_markdown_json_and_html(client: LanguageClient, workspace: Path) -> None:
    uri = from_fs_path(str(workspace))
    await asyncio.wait_for(
        client.initialize_session(
            lsp.InitializeParams(
                capabilities=lsp.ClientCapabilities(),
                root_uri=uri,
                workspace_folders=[lsp.WorkspaceFolder(uri=uri, name="workspace")],
            )
        ),
        10,
    )
    # An open document with an unsaved edit is audited as the editor holds it.
    core = workspace / "crates" / "core" / "src" / "lib.rs"
    edited = core.read_text(encoding="utf-8") + "\npub fn raw(p: *const f32) -> f32 {\n    unsafe { *p }\n}\n"
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=from_fs_path(str(core)), language_id="rust", version=1, text=edited))
    )
    result = await asyncio.wait_for(
        client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="safety-ls.auditWorkspace")), 60
    )
    assert set(result) == {"markdown", "json", "htmlPath"}
    report = result["json"]
    assert [c["name"] for c in report["crates"]] == ["demo-core", "demo-gpu", "demo-tui"]
    assert report["summary"]["sites"]["total"] == 18  # the 17 marked sites and the unsaved block
    (core_crate,) = [c for c in report["crates"] if c["name"] == "demo-core"]
    assert core_crate["unsafe_blocks"] == {"total": 1, "documented": 0}
    assert "| demo-core | 1 | 0 | 0 |" in result["markdown"]
    page = Path(result["htmlPath"])
    assert page == workspace / ".safety-ls-cache" / "audit.html"
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # The server keeps working after the command.
    hover = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri=from_fs_path(str(core))), lsp.Position(line=53, character=5))
    )
    assert hover is not None and "undocumented-unsafe-block" in hover.contents.value
    assert Counter(s["crate"] for s in report["sites"])["demo-core"] == 1


def test_audit_json_lists_launches_and_ffi_declarations_with_their_definitions():
    crate = Path(__file__).parent.parent / "fixtures" / "rules" / "cuda_shapes"
    report = audit_json(".", cwd=crate)
    launches = {(launch["line"], launch["kernel"]): launch for launch in report["launches"]}
    assert launches[(19, "uneg")] == {
        "path": "src/lib.rs", "line": 19, "kernel": "uneg", "form": "builder", "arguments": ["n", "inp", "out"],
        "definition": "kernels/unary.cu:6", "checked": True,
    }
    assert launches[(85, "saxpy")]["definition"] == "src/lib.rs:75"
    ffi = {declaration["name"]: declaration for declaration in report["ffi"] if declaration["line"] != 110}
    assert ffi["launch_norm"] == {"path": "src/lib.rs", "line": 99, "name": "launch_norm", "definition": "kernels/unary.cu:22", "checked": True}
    assert ffi["launch_missing_everywhere"]["definition"] is None and not ffi["launch_missing_everywhere"]["checked"]


def test_markdown_audit_has_a_kernel_launch_table_saying_why_a_launch_is_unchecked(tmp_path: Path):
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "s"\nversion = "0.1.0"\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text(
        'fn f(dev: &Dev, x: &Buf) {\n    let k = dev.get_func("m", "nowhere").unwrap();\n'
        "    // SAFETY: parameters, sizes, aliasing and grid dims are fine.\n    unsafe { k.launch(cfg, (x,)) }.unwrap();\n}\n"
    )
    done = audit(".", cwd=tmp_path)
    assert "### 2.6 Kernel Launches" in done.stdout
    assert "| `src/lib.rs:4` | `nowhere` | cudarc | 1 | - | ⚠️ kernel not found |" in done.stdout
