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
from safety_ls.core.settings import Settings

PROFILES = ("default", "structured", "grit")
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
    clippy_lint: str | None = None  # the clippy lint it mirrors, if any
    # The site captures (context.SITE_PATTERNS) the check reads; none means text only.
    sites: tuple[str, ...] = ()
    # A file without a match for this cannot produce a finding (saves parsing it).
    trigger: re.Pattern[bytes] | None = None


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


def rules_for_profile(profile: str) -> list[Rule]:
    return [rule for rule in ALL_RULES.values() if profile in rule.profiles]
