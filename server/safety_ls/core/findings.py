"""What the engine reports: findings in byte offsets, diagnostics in positions."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from safety_ls.core.fix_requests import FixRequest
from safety_ls.core.source import SourceText


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    HINT = "hint"


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on one site, in file byte offsets."""

    rule: str
    start: int
    end: int
    message: str
    # What the site is (kind, inferred types, ...), for messages, hover and the audit.
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # What fixing it takes; None where no fix can be offered.
    fix: FixRequest | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class Diagnostic:
    """A finding placed in a file: 1-based lines, 1-based character columns."""

    path: str
    rule: str
    severity: Severity
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    fixable: bool
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    fix: FixRequest | None = field(default=None, compare=False, hash=False)

    @classmethod
    def place(
        cls, path: str, source: SourceText, finding: Finding, severity: Severity, fixable: bool
    ) -> "Diagnostic":
        start = source.position(finding.start)
        end = source.position(max(finding.end, finding.start))
        return cls(
            path=path,
            rule=finding.rule,
            severity=severity,
            message=finding.message,
            line=start.line + 1,
            column=start.column + 1,
            end_line=end.line + 1,
            end_column=end.column + 1,
            fixable=fixable,
            start=finding.start,
            end=finding.end,
            data=finding.data,
            fix=finding.fix,
        )

    def moved(self, delta: int) -> "Diagnostic":
        """The same finding `delta` bytes later, its fix request with it (line and column fields are
        not recomputed).

        Written out rather than `dataclasses.replace`: the language server moves every
        finding below an edit on each keystroke.
        """
        return Diagnostic(
            self.path, self.rule, self.severity, self.message, self.line, self.column,
            self.end_line, self.end_column, self.fixable, self.start + delta, self.end + delta, self.data,
            self.fix.shifted(delta) if self.fix is not None else None,
        )

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON contract, exactly (DESIGN.md)."""
        return {
            "path": self.path,
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "fixable": self.fixable,
        }

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.rule)


@dataclass
class FileResult:
    """Everything one file's check produced (what the cache stores and the formats print)."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: str | None = None  # the file could not be analysed at all
    warnings: list[str] = field(default_factory=list)  # analysed, with a caveat
    # The source lines diagnostics point at (0-based) and their neighbours (`context_lines`),
    # for reports that quote them and for fingerprints that outlive line numbers.
    excerpts: dict[int, str] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)  # see FileContext.dependencies
    kernel_source_dependencies: list[str] = field(default_factory=list)  # see FileContext
