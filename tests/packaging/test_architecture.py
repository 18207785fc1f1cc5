"""The package's folders are its architecture (docs/architecture.md): these tests keep them honest."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from safety_ls.core.tags import TAGS
from safety_ls.rules import ALL_RULES, rules_table

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGE = ROOT / "server" / "safety_ls"
sys.path.insert(0, str(ROOT / "scripts"))
import generate_docs  # noqa: E402


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("safety_ls", include_external_packages=False, exclude_type_checking_imports=False)


def test_layers_contract_holds() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "server"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_no_module_imports_itself_through_others(graph: grimp.ImportGraph) -> None:
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                cycles.append(f"{module} -> {imported} -> ... -> {module}")
    assert cycles == []


def test_no_import_is_hidden_behind_type_checking() -> None:
    offenders = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if "TYPE_CHECKING" in path.read_text()]
    assert offenders == []


def test_rules_never_import_each_other(graph: grimp.ImportGraph) -> None:
    rule_modules = {m for m in graph.modules if m.startswith("safety_ls.rules.")}
    crossings = [
        f"{module} -> {imported}"
        for module in sorted(rule_modules)
        for imported in graph.find_modules_directly_imported_by(module)
        if imported in rule_modules and imported != module
    ]
    assert crossings == []


def test_every_rule_tag_is_in_the_tag_registry() -> None:
    missing = {rule.id: rule.tag for rule in ALL_RULES.values() if rule.tag and rule.tag not in TAGS}
    assert missing == {}


def test_every_rule_documents_itself_with_an_example() -> None:
    undocumented = [rule.id for rule in ALL_RULES.values() if not (rule.summary and rule.explanation and rule.example)]
    assert undocumented == []


def test_readme_rule_table_is_generated_from_the_rules() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert generate_docs.readme_with_table(readme) == readme, "run scripts/generate_docs.py"
    assert rules_table() in readme


def test_rule_ids_module_is_generated_from_the_rules() -> None:
    assert generate_docs.RULE_IDS_MODULE.read_text(encoding="utf-8") == generate_docs.rule_ids_module(), "run scripts/generate_docs.py"


def test_language_server_modules_stay_small() -> None:
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in (PACKAGE / "lsp").rglob("*.py")}
    assert {name: lines for name, lines in sizes.items() if lines > 250} == {}


def test_rule_ids_are_written_only_by_their_rule() -> None:
    """Front ends and fixes refer to rules through the registry, never by a string of their id."""
    ids = "|".join(re.escape(rule_id) for rule_id in ALL_RULES)
    literal = re.compile(rf"[\"']({ids})[\"']")
    outside = []
    for path in PACKAGE.rglob("*.py"):
        if "rules" in path.relative_to(PACKAGE).parts or path == generate_docs.RULE_IDS_MODULE:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if literal.search(line):
                outside.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert outside == []
