"""The editor snippets file stays what scripts/generate_snippets.py makes from the templates."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from safety_ls.config.templates import Templates, default_directory

ROOT = Path(__file__).resolve().parent.parent.parent
SNIPPETS_FILE = ROOT / "snippets" / "safety-ls.code-snippets"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_snippets", ROOT / "scripts" / "generate_snippets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()


def _committed() -> dict:
    return json.loads(SNIPPETS_FILE.read_text(encoding="utf-8"))


def test_committed_file_is_what_the_script_generates() -> None:
    assert SNIPPETS_FILE.read_text(encoding="utf-8") == GENERATOR.generate(), (
        "snippets/safety-ls.code-snippets is out of date: run scripts/generate_snippets.py"
    )


def test_script_check_mode_agrees() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_snippets.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_every_annotation_template_has_a_snippet() -> None:
    annotation_templates = {path.name for path in default_directory().glob("*.j2")} - {
        "alloc_wrapper.rs.j2",  # code, not an annotation: the fix adds it
        "safety_doc_sections.j2",  # the fix's completion of an existing `# Safety` section
        "safety_operations.j2",  # the fix's naming of a block's own operations (included by the SAFETY templates)
    }
    used = {template for _, _, template, _, _ in GENERATOR.SNIPPETS}
    assert annotation_templates <= used, f"no snippet for {sorted(annotation_templates - used)}"


def test_shape_accepted_by_vscode_and_luasnip_loaders() -> None:
    """What LuaSnip's `from_vscode` loader reads: an object of snippets, each with prefix, body, description."""
    snippets = _committed()
    assert isinstance(snippets, dict) and snippets
    prefixes = []
    for name, snippet in snippets.items():
        assert isinstance(name, str) and name
        assert set(snippet) <= {"prefix", "body", "description", "scope"}, name
        assert isinstance(snippet["prefix"], str) and re.fullmatch(r"[a-z][a-z-]*", snippet["prefix"]), name
        assert isinstance(snippet["body"], list) and snippet["body"], name
        assert all(isinstance(line, str) and "\n" not in line for line in snippet["body"]), name
        assert isinstance(snippet["description"], str) and snippet["description"], name
        assert snippet["scope"] == "rust"
        prefixes.append(snippet["prefix"])
    assert len(prefixes) == len(set(prefixes)), "snippet prefixes must be unique"


def test_tabstops_are_well_formed_and_numbered_in_order() -> None:
    for name, snippet in _committed().items():
        text = "\n".join(snippet["body"])
        # Every `$` is escaped, a `${n:default}` tabstop or the final `$0`.
        unescaped = re.sub(r"\\[\\$}]", "", text)
        for match in re.finditer(r"\$", unescaped):
            assert re.match(r"\$(\{\d+:|0$)", unescaped[match.start() :]), (name, unescaped[match.start() :][:20])
        numbers = [int(n) for n in re.findall(r"(?<!\\)\$\{(\d+):", text)]
        assert numbers == list(range(1, len(numbers) + 1)), name
        assert text.endswith("$0"), name
        # Defaults keep their angle brackets: an unfilled snippet is still a placeholder.
        assert all(default.startswith("<") for default in re.findall(r"\$\{\d+:([^}]*)", text)), name


@pytest.mark.parametrize("entry", GENERATOR.SNIPPETS, ids=lambda entry: entry[1])
def test_snippet_with_defaults_is_exactly_the_template_output(entry) -> None:
    name, prefix, template, context, _ = entry
    snippet = _committed()[name]
    assert snippet["prefix"] == prefix
    rendered = Templates().render(template, context)
    assert GENERATOR.expand_defaults(snippet["body"]) == rendered
    assert any("${" in line for line in snippet["body"]), "every annotation template has something to fill in"


def test_placeholders_nest_and_code_generics_are_not_tabstops() -> None:
    spans = GENERATOR.placeholder_spans("// PROMOTE: <reason, e.g. with to_vec1::<f32>()> and Vec<u8> `<dev>.alloc::<f32>(<n>)`")
    texts = [
        "// PROMOTE: <reason, e.g. with to_vec1::<f32>()> and Vec<u8> `<dev>.alloc::<f32>(<n>)`"[a:b] for a, b in spans
    ]
    assert texts == ["<reason, e.g. with to_vec1::<f32>()>", "<dev>", "<n>"]
    body = GENERATOR.to_snippet_body(["// CAST: <from> → u32, costs $5 {x} \\ <reason, e.g. a}b>"])
    assert body == ["// CAST: ${1:<from>} → u32, costs \\$5 {x} \\\\ ${2:<reason, e.g. a\\}b>}$0"]
    assert GENERATOR.expand_defaults(body) == ["// CAST: <from> → u32, costs $5 {x} \\ <reason, e.g. a}b>"]
