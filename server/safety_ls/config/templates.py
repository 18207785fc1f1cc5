"""Annotation templates: jinja2 in a sandbox, project templates first, shipped defaults behind.

Templates may come from a cloned repository, so they render in a
`SandboxedEnvironment`, are read only from regular files inside the template
directory (a symlink there could read any file into a comment or a report),
and render within a time budget (nested loops must not hang `fix` or the
server). A project template that fails to load or render is reported by name
and the shipped default is used instead, so a broken template never stops fixes.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import Any, Callable

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment

RENDER_SECONDS = 2.0  # a project template's time budget for one rendering
MAX_TEMPLATE_BYTES = 1024 * 1024


class _NotAComment(Exception):
    pass


class _OverBudget(Exception):
    pass


class _RegularFileLoader(jinja2.BaseLoader):
    """Templates from regular files inside `directory` only: no symlink anywhere below it, no `..`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = self.directory
        for part in split_template_path(template):  # refuses `..`
            path = path / part
            try:
                status = os.lstat(path)
            except OSError:
                raise jinja2.TemplateNotFound(template) from None
            if stat.S_ISLNK(status.st_mode):
                raise jinja2.TemplateNotFound(f"{template} (a symlink; templates are read only from regular files)")
        if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_TEMPLATE_BYTES:
            raise jinja2.TemplateNotFound(f"{template} (not a regular file of at most {MAX_TEMPLATE_BYTES} bytes)")
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(handle, "rb") as stream:
            text = stream.read(MAX_TEMPLATE_BYTES).decode("utf-8")
        mtime = status.st_mtime_ns
        return text, str(path), lambda: os.stat(path, follow_symlinks=False).st_mtime_ns == mtime


def _within_budget(render: Callable[[], str], seconds: float) -> str:
    """`render()`, stopped with _OverBudget after `seconds`: jinja2 has no timeout of its own, but a
    template runs as Python code in this thread, so a line tracer can end it."""
    deadline = time.monotonic() + seconds
    previous = sys.gettrace()

    def tracer(frame: FrameType, event: str, argument: Any) -> Any:
        if time.monotonic() > deadline:
            raise _OverBudget(f"rendering took over {seconds:g} s; stopped")
        return tracer

    sys.settrace(tracer)
    try:
        return render()
    finally:
        sys.settrace(previous)


class TemplateError(Exception):
    def __init__(self, name: str, origin: str, problem: str) -> None:
        self.name, self.origin, self.problem = name, origin, problem
        super().__init__(f"template {name} ({origin}): {problem}")


def default_directory() -> Path:
    return Path(str(resources.files("safety_ls.snippets")))


def _environment(directory: Path, loader: jinja2.BaseLoader | None = None) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=loader or jinja2.FileSystemLoader(str(directory)),
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
        if self.project_directory is not None and os.path.lexists(self.project_directory / name):
            try:
                environment = _environment(self.project_directory, _RegularFileLoader(self.project_directory))
                template = environment.get_template(name)
                text = _within_budget(lambda: template.render(**context), RENDER_SECONDS)
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
    """Outer `//` comments only: code, or an inner `//!` doc comment in the middle of a file, breaks the build."""
    lines = [line.lstrip() for line in _lines(text) if line.strip()]
    code = next((line for line in lines if not line.startswith("//") or line.startswith("//!")), None)
    if code is not None:
        raise _NotAComment(f"renders a line that is not an outer `//` comment: {code.strip()[:60]!r}")


def _describe(error: Exception) -> str:
    if isinstance(error, (_NotAComment, _OverBudget)):
        return str(error)
    if isinstance(error, jinja2.TemplateNotFound):
        return f"not loaded: {error.message or error}"
    if not isinstance(error, jinja2.TemplateError):
        return f"{type(error).__name__}: {error}"
    line = getattr(error, "lineno", None)
    return f"line {line}: {error.message}" if line else str(error.message or error)


def _lines(text: str) -> list[str]:
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines
