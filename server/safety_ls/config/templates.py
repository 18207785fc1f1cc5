"""Annotation templates: jinja2 in a sandbox, project templates first, shipped defaults behind.

Templates may come from a cloned repository, so they render in a
`SandboxedEnvironment`. A project template that fails to load or render is
reported by name and the shipped default is used instead, so a broken
template never stops fixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import jinja2
from jinja2.sandbox import SandboxedEnvironment


class _NotAComment(Exception):
    pass


class TemplateError(Exception):
    def __init__(self, name: str, origin: str, problem: str) -> None:
        self.name, self.origin, self.problem = name, origin, problem
        super().__init__(f"template {name} ({origin}): {problem}")


def default_directory() -> Path:
    return Path(str(resources.files("safety_ls.snippets")))


def _environment(directory: Path) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


@lru_cache(maxsize=1)
def _defaults() -> SandboxedEnvironment:
    return _environment(default_directory())


@dataclass
class Templates:
    """Renders templates by name; `project_directory` overrides the defaults file by file."""

    project_directory: Path | None = None
    problems: list[TemplateError] = field(default_factory=list)

    def render(self, name: str, context: dict[str, Any]) -> list[str]:
        """The template's lines, without trailing blank lines."""
        # An annotation: comments only, never code in the user's file.
        return _lines(self._render(name, context, None if name.endswith(".rs.j2") else _comments_only))

    def render_document(self, name: str, context: dict[str, Any]) -> str:
        """A whole document (the audit report), ending in a line break."""
        text = self._render(name, context, None)
        return text if text.endswith("\n") else text + "\n"

    def _render(self, name: str, context: dict[str, Any], check: Callable[[str], None] | None) -> str:
        if self.project_directory is not None and (self.project_directory / name).is_file():
            try:
                text = _environment(self.project_directory).get_template(name).render(**context)
                if check is not None:
                    check(text)
                return text
            except Exception as error:  # noqa: BLE001 - any failure of a project template (1 // 0, bad bytes)
                problem = TemplateError(name, str(self.project_directory / name), _describe(error))
                if all(str(p) != str(problem) for p in self.problems):
                    self.problems.append(problem)
        try:
            return _defaults().get_template(name).render(**context)
        except jinja2.TemplateError as error:  # a bug in a shipped template
            raise TemplateError(name, "built-in", _describe(error)) from None


def _comments_only(text: str) -> None:
    code = next((line for line in _lines(text) if line.strip() and not line.lstrip().startswith("//")), None)
    if code is not None:
        raise _NotAComment(f"renders a line that is not a `//` comment: {code.strip()[:60]!r}")


def _describe(error: Exception) -> str:
    if isinstance(error, _NotAComment):
        return str(error)
    if not isinstance(error, jinja2.TemplateError):
        return f"{type(error).__name__}: {error}"
    line = getattr(error, "lineno", None)
    return f"line {line}: {error.message}" if line else str(error.message or error)


def _lines(text: str) -> list[str]:
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines
