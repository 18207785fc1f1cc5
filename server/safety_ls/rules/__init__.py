"""The rule registry.

A rule is data (`Rule`) plus a check function over a `FileContext`. Every
module in this package lists its rules in `RULES`; adding a rule means
adding it to one module (and one test file), nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from safety_ls.core.context import FileContext
from safety_ls.core.findings import Finding, Severity
from safety_ls.core.settings import PROFILES, Settings

DEFAULT_PROFILES = frozenset(PROFILES)


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str  # one line, shown in listings and SARIF shortDescription
    explanation: str  # what the rule asks and why, for hover and SARIF help
    check: Callable[["FileContext"], Iterable[Finding]]
    tag: str | None = None  # the annotation tag the rule asks for
    default_severity: Severity = Severity.WARNING
    profiles: frozenset[str] = DEFAULT_PROFILES  # profiles that enable the rule
    fixable: bool = False
    # The fix rewrites code rather than adding an annotation (offered as a refactoring, not a quick fix).
    fix_rewrites_code: bool = False
    clippy_lint: str | None = None  # the clippy lint it mirrors, if any
    # The sites (context.SITE_NAMES) the check reads; none means text only.
    sites: tuple[str, ...] = ()
    # Method names whose calls the check reads through `method_name` sites.
    methods: tuple[str, ...] = ()
    # A file without a match for this cannot produce a finding (saves parsing it).
    trigger: re.Pattern[bytes] | None = None
    example: str = ""  # Rust the rule flags, for the rule's documentation
    since: str = "0.1.0"  # the safety-ls version that introduced the rule

    def documentation(self) -> str:
        """The rule's page in Markdown: `safety-ls rules ID` prints it and SARIF carries it as help."""
        parts = [f"## `{self.id}`", "", self.summary, "", self.explanation, ""]
        if self.example:
            parts += ["Example:", "", "```rust", self.example, "```", ""]
        if self.tag:
            parts.append(f"Annotation: `// {self.tag}: <reason>`{'; `safety-ls fix` inserts a template' if self.fixable else ''}.")
        elif self.fixable:
            parts.append("`safety-ls fix` fixes it.")
        if self.clippy_lint:
            parts.append(f"Mirrors clippy's `{self.clippy_lint}` (clippy 1.95).")
        profiles = ", ".join(sorted(self.profiles)) or "none (reported only by `safety-ls validate`)"
        parts.append(f"Profiles: {profiles}. Default severity: {self.default_severity.value}. Since safety-ls {self.since}.")
        return "\n".join(parts)


def _discover() -> dict[str, Rule]:
    found: dict[str, Rule] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for rule in getattr(module, "RULES", ()):
            if rule.id in found:
                raise RuntimeError(f"rule id {rule.id} defined twice")
            found[rule.id] = rule
    return found


ALL_RULES: dict[str, Rule] = _discover()


def enabled_rules(settings: Settings) -> list[Rule]:
    """The rules the settings turn on: the profile's (or `select`'s), plus `extend-select`, less `ignore`."""
    if settings.select is None:
        chosen = {rule.id for rule in ALL_RULES.values() if settings.profile in rule.profiles}
    elif "ALL" in settings.select:
        chosen = set(ALL_RULES)
    else:
        chosen = set(settings.select)
    chosen |= settings.extend_select
    chosen -= settings.ignore
    return [rule for rule_id, rule in ALL_RULES.items() if rule_id in chosen]


def profiles_column(rule: Rule) -> str:
    if not rule.profiles:
        return "none"
    return "all" if len(rule.profiles) == len(PROFILES) else ", ".join(sorted(rule.profiles))


# The order rule families are presented in (the README table); a new module goes last.
_PRESENTATION = ("unsafe_code", "safety_doc", "send_sync", "device_alloc", "kernel_launch", "gpu_sanitizer", "dtype", "casts", "annotation_quality", "grit")


def documented_order() -> list[Rule]:
    def family(rule: Rule) -> int:
        name = rule.check.__module__.rsplit(".", 1)[-1]
        return _PRESENTATION.index(name) if name in _PRESENTATION else len(_PRESENTATION)

    return sorted(ALL_RULES.values(), key=family)


def rules_table() -> str:
    """The README's rule table, generated from the rules' own documentation."""
    rows = ["| id | flags | profiles |", "| --- | --- | --- |"]
    rows += [f"| `{rule.id}` | {rule.summary} | {profiles_column(rule)} |" for rule in documented_order()]
    return "\n".join(rows)


def rules_for_profile(profile: str) -> list[Rule]:
    return [rule for rule in ALL_RULES.values() if profile in rule.profiles]
