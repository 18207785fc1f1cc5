"""Configuration: `safety-ls.toml`, `.safety-ls.toml`, Cargo metadata, clippy.toml.

Every key is validated; an unknown key or a bad value is a `ConfigError`
naming the file, the line and the key, so a typo never silently changes
what is checked.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Mapping

from safety_ls.config.rule_ids import RULE_IDS
from safety_ls.core.findings import Severity
from safety_ls.core.settings import (
    CAST_POLICIES,
    GPU_BACKENDS,
    GPU_TOOLS,
    PROFILES,
    GpuSettings,
    PlacementOptions,
    Settings,
)

CONFIG_FILE_NAMES = ("safety-ls.toml", ".safety-ls.toml")
CLIPPY_FILE_NAMES = ("clippy.toml", ".clippy.toml")
CARGO_TABLES = (("workspace", "metadata", "safety-ls"), ("package", "metadata", "safety-ls"))


class ConfigError(Exception):
    def __init__(self, path: str, line: int | None, key: str | None, message: str) -> None:
        self.path, self.line, self.key, self.message = path, line, key, message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


# --- validation -----------------------------------------------------------------------


def _rule_ids(value: Any, where: Callable[[str], ConfigError]) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise where("expected a list of rule ids")
    unknown = [item for item in value if item not in RULE_IDS and item != "ALL"]
    if unknown:
        raise where(f"unknown rule id {unknown[0]!r} (known: {', '.join(sorted(RULE_IDS))})")
    return frozenset(value)


def _strings(value: Any, where: Callable[[str], ConfigError]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise where("expected a list of non-empty strings")
    if any("\0" in item for item in value):
        raise where("a NUL character cannot be part of a string here")
    return tuple(value)


def _patterns(value: Any, where: Callable[[str], ConfigError]) -> tuple[str, ...]:
    import pathspec  # only a config with patterns pays for the import

    patterns = _strings(value, where)
    for pattern in patterns:
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        except Exception as error:  # pathspec raises several types for a malformed pattern
            raise where(f"{pattern!r} is not a valid .gitignore-style pattern ({error})") from None
    return patterns


def seconds(value: Any) -> float:
    """A timeout: a positive, finite number of seconds (ValueError otherwise; nan and inf are not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"expected a positive, finite number of seconds, not {value!r}")
    return float(value)


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _environment(value: Any, where: Callable[[str], ConfigError]) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise where("expected a table of NAME = \"value\"")
    for name, item in value.items():
        if not _ENV_NAME.fullmatch(name):
            raise where(f"{name!r} is not an environment variable name (letters, digits and `_`)")
        if "\0" in item:
            raise where(f"the value of {name} contains a NUL character")
    return dict(value)


def _boolean(value: Any, where: Callable[[str], ConfigError]) -> bool:
    if not isinstance(value, bool):
        raise where("expected true or false")
    return value


def _severities(
    value: Any, where: Callable[[str], ConfigError], where_rule: Callable[[str], Callable[[str], ConfigError]]
) -> dict[str, Severity]:
    """`where_rule(rule_id)` reports at the rule's own line inside `[severity]`, not the table header."""
    if not isinstance(value, dict):
        raise where("expected a table of rule id = severity")
    result = {}
    for rule_id, level in value.items():
        if rule_id not in RULE_IDS:
            raise where_rule(rule_id)(f"unknown rule id {rule_id!r}")
        try:
            result[rule_id] = Severity(level)
        except ValueError:
            raise where_rule(rule_id)(
                f"severity must be one of {', '.join(s.value for s in Severity)}, not {level!r}"
            ) from None
    return result


def _size(value: Any, where: Callable[[str], ConfigError]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise where("expected a positive number of bytes")
    return value


class _Reader:
    """Validates one table of settings, tracking lines for error messages."""

    def __init__(self, path: str, text: str, table_path: tuple[str, ...], *, from_file: bool = True) -> None:
        self.path, self.text, self.table_path = path, text, table_path
        self.from_file = from_file  # client settings have no folder to resolve paths against

    def error(self, key: str, message: str, subtable: tuple[str, ...] = ()) -> ConfigError:
        line = _key_line(self.text, self.table_path + subtable, key)
        dotted = ".".join(subtable + (key,))
        return ConfigError(self.path, line, dotted, message)

    def where(self, key: str, subtable: tuple[str, ...] = ()) -> Callable[[str], ConfigError]:
        return lambda message: self.error(key, message, subtable)

    def read(self, table: Mapping[str, Any], root: Path) -> Settings:
        values: dict[str, Any] = {}
        grouped: bool | None = None  # a placement option written at the top level, as DESIGN.md names it
        for key, value in table.items():
            where = self.where(key)
            if key == "profile":
                if value not in PROFILES:
                    raise where(f"unknown profile {value!r} (one of {', '.join(PROFILES)})")
                values["profile"] = value
            elif key == "select":
                values["select"] = _rule_ids(value, where)
            elif key == "extend-select":
                values["extend_select"] = _rule_ids(value, where)
            elif key == "ignore":
                values["ignore"] = _rule_ids(value, where)
            elif key == "severity":
                values["severity"] = _severities(value, where, lambda rule_id: self.where(rule_id, ("severity",)))
            elif key == "placement":
                values["placement"] = self._placement(value)
            elif key == "matmul-methods":
                values["matmul_methods"] = _identifiers(value, where)
            elif key == "promotion-targets":
                values["promotion_targets"] = _identifiers(value, where)
            elif key == "launch-patterns":
                values["launch_patterns"] = _strings(value, where)
            elif key == "vague-phrases":
                values["vague_phrases"] = _strings(value, where)
            elif key == "exclude":
                values["exclude"] = _patterns(value, where)
            elif key == "max-file-size":
                values["max_file_size"] = _size(value, where)
            elif key == "template-dir":
                if not isinstance(value, str) or not value or "\0" in value:
                    raise where("expected a directory path")
                if self.from_file and not (root / value).is_dir():
                    raise where(f"{value!r} is not a directory (relative paths start at {root})")
                if self.from_file and not _inside((root / value).resolve(), root.resolve()):
                    # A cloned repository's config must not read templates from elsewhere on the machine.
                    raise where(f"{value!r} is outside the project folder {root}")
                values["template_dir"] = value
            elif key == "alloc-wrapper-module":
                if not isinstance(value, str) or not re.fullmatch(r"(crate::)?\w+(::\w+)*", value):
                    raise where("expected a module path such as \"gpu::alloc\"")
                values["alloc_wrapper_module"] = value
            elif key == "gpu":
                values["gpu"] = self._gpu(value)
            elif key == "cast-policy":
                if value not in CAST_POLICIES:
                    raise where(f"unknown cast policy {value!r} (one of {', '.join(CAST_POLICIES)})")
                values["cast_policy"] = value
            elif key in ("tests", "send-sync-pair"):
                values[key.replace("-", "_")] = _boolean(value, where)
            elif key == "group-annotations":
                grouped = _boolean(value, where)
            else:
                raise where("unknown key")
        if grouped is not None:
            values["placement"] = replace(values.get("placement", PlacementOptions()), group_annotations=grouped)
        return Settings(**values, source=self.path, root=str(root))

    def _placement(self, value: Any) -> PlacementOptions:
        if not isinstance(value, dict):
            raise self.error("placement", "expected a table")
        options = {}
        for key, item in value.items():
            where = self.where(key, ("placement",))
            if key not in ("accept-comment-above-statement", "accept-comment-above-attributes"):
                raise where("unknown key")
            options[key.replace("-", "_")] = _boolean(item, where)
        return PlacementOptions(**options)

    def _gpu(self, value: Any) -> GpuSettings:
        if not isinstance(value, dict):
            raise self.error("gpu", "expected a table")
        options: dict[str, Any] = {}
        for key, item in value.items():
            where = self.where(key, ("gpu",))
            if key in ("command", "srun-args", "ssh-args"):
                options[key.replace("-", "_")] = _strings(item, where)
            elif key == "tools":
                tools = _strings(item, where)
                for tool in tools:
                    if tool not in GPU_TOOLS:
                        raise where(f"unknown tool {tool!r} (one of {', '.join(GPU_TOOLS)})")
                options["tools"] = tools
            elif key == "timeout":
                try:
                    options["timeout"] = seconds(item)
                except ValueError as error:
                    raise where(str(error)) from None
            elif key == "env":
                options["env"] = _environment(item, where)
            elif key == "backend":
                if item not in GPU_BACKENDS:
                    raise where(f"unknown backend {item!r} (one of {', '.join(GPU_BACKENDS)})")
                options["backend"] = item
            elif key == "xml":
                options["xml"] = _boolean(item, where)
            elif key in ("host", "remote-dir", "sanitizer", "build-root"):
                if not isinstance(item, str) or not item or "\0" in item:
                    raise where("expected a string (without NUL characters)")
                options[key.replace("-", "_")] = item
            else:
                raise where("unknown key")
        return GpuSettings(**options)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _identifiers(value: Any, where: Callable[[str], ConfigError]) -> tuple[str, ...]:
    names = _strings(value, where)
    for name in names:
        if not _IDENTIFIER.match(name):
            raise where(f"{name!r} is not a Rust identifier")
    return names


def _key_line(text: str, table_path: tuple[str, ...], key: str) -> int | None:
    """1-based line where `key` is set inside `[table_path]`, best effort."""
    header = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")
    assignment = re.compile(r'^\s*"?' + re.escape(key) + r'"?\s*=')
    inline_parent = ".".join(table_path)
    own_table = ".".join(table_path + (key,))
    current = ""
    fallback = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = header.match(line)
        if match:
            current = ".".join(part.strip().strip('"') for part in match.group(1).split("."))
            if current == own_table:
                return number
            continue
        if assignment.match(line):
            if current == inline_parent:
                return number
            fallback = fallback or number
        elif fallback is None and re.search(r"\b" + re.escape(key) + r"\s*=", line):
            fallback = number
    return fallback


# --- discovery ------------------------------------------------------------------------


def _parse_toml(path: Path) -> tuple[str, dict[str, Any]]:
    import tomllib  # only a workspace with a config file pays for the import

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), None, None, f"cannot read: {error}") from None
    try:
        return text, tomllib.loads(text)
    except RecursionError:
        raise ConfigError(str(path), None, None, "invalid TOML: arrays or tables nested too deeply") from None
    except tomllib.TOMLDecodeError as error:
        # `lineno` only exists from Python 3.14; before that the line is only in the message.
        line = getattr(error, "lineno", None)
        if line is None and (match := re.search(r"\(at line (\d+)", str(error))):
            line = int(match.group(1))
        raise ConfigError(str(path), line, None, f"invalid TOML: {error}") from None


def _dig(document: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    current: Any = document
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def find_config_file(start: Path) -> tuple[Path, tuple[str, ...]] | None:
    """The nearest config at or above `start`: a safety-ls file or Cargo metadata."""
    directory = start if start.is_dir() else start.parent
    for candidate in [directory, *directory.parents]:
        for name in CONFIG_FILE_NAMES:
            if (candidate / name).is_file():
                return candidate / name, ()
        cargo = candidate / "Cargo.toml"
        if cargo.is_file():
            try:
                text = cargo.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "safety-ls" not in text:
                continue  # another crate's manifest: whatever is wrong with it is cargo's to report
            # A manifest that configures safety-ls but is broken is an error, never skipped for a parent's config.
            _, document = _parse_toml(cargo)
            for table in CARGO_TABLES:
                found = _dig(document, table)
                if isinstance(found, dict):
                    return cargo, table
                if found is not None:
                    raise ConfigError(str(cargo), _key_line(text, table[:-1], table[-1]), ".".join(table), "expected a table")
    return None


def load_config_file(path: Path, table_path: tuple[str, ...] = ()) -> Settings:
    text, document = _parse_toml(path)
    table = _dig(document, table_path) if table_path else document
    if not isinstance(table, dict):
        raise ConfigError(str(path), None, ".".join(table_path), "expected a table")
    return _Reader(str(path), text, table_path).read(table, path.parent)


def apply_clippy_toml(settings: Settings, start: Path, explicit_placement: bool) -> Settings:
    """Honour clippy.toml's two placement options unless the config set its own."""
    if explicit_placement:
        return settings
    directory = start if start.is_dir() else start.parent
    for candidate in [directory, *directory.parents]:
        for name in CLIPPY_FILE_NAMES:
            path = candidate / name
            if path.is_file():
                text, document = _parse_toml(path)
                options = {}
                for key in ("accept-comment-above-statement", "accept-comment-above-attributes"):
                    if key in document:
                        where = lambda message, key=key: ConfigError(
                            str(path), _key_line(text, (), key), key, message
                        )
                        options[key.replace("-", "_")] = _boolean(document[key], where)
                return replace(settings, placement=replace(settings.placement, **options))
    return settings


def load_settings(start: Path, explicit: Path | None = None) -> Settings:
    """Settings for files at or below `start`, or from `explicit` when given."""
    if explicit is not None:
        table: tuple[str, ...] = ()
        if explicit.name == "Cargo.toml":
            _, document = _parse_toml(explicit)
            table = next((t for t in CARGO_TABLES if isinstance(_dig(document, t), dict)), ())
        settings = load_config_file(explicit, table)
        explicit_placement = "placement" in _raw_keys(explicit, table)
        return apply_clippy_toml(settings, explicit.parent, explicit_placement)
    found = find_config_file(start.resolve())
    if found is None:
        return apply_clippy_toml(Settings(), start.resolve(), False)
    path, table = found
    settings = load_config_file(path, table)
    return apply_clippy_toml(settings, path.parent, "placement" in _raw_keys(path, table))


def _raw_keys(path: Path, table: tuple[str, ...]) -> set[str]:
    _, document = _parse_toml(path)
    found = _dig(document, table) if table else document
    return set(found) if isinstance(found, dict) else set()


def settings_from_mapping(values: Mapping[str, Any], origin: str = "client settings") -> Settings:
    """Settings sent by an editor, validated like a file."""
    return _Reader(origin, "", (), from_file=False).read(dict(values), Path("."))
