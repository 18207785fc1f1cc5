"""What the server knows between requests: open documents, settings, crates.

No protocol here: handlers read and update the session; the server object publishes.
"""

from __future__ import annotations

import os
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from safety_ls.config.loader import (
    CONFIG_FILE_NAMES,
    ConfigError,
    load_settings,
    settings_from_mapping,
)
from safety_ls.core.crate import CrateIndex, crate_index, forget_crates
from safety_ls.core.crate_dirs import crate_dir_of
from safety_ls.core.settings import Settings
from safety_ls.lsp.documents import Document

# Settings that belong to the editor integration, not to the checker's configuration.
CLIENT_ONLY_KEYS = frozenset({"workspace-scan", "trace", "server-path", "interpreter", "extra-args", "gpu-runner"})
# Files whose change can change a document's settings or crate (watched where the client can).
CONFIG_NAMES = (*CONFIG_FILE_NAMES, "Cargo.toml", "clippy.toml", ".clippy.toml")


class Session:
    def __init__(self, report_error: Callable[[str], None], client_root: Callable[[], str | None]) -> None:
        self.report_error = report_error
        self._client_root = client_root  # the workspace root the client announced, once it has
        self.documents: dict[str, Document] = {}
        self.client_settings: dict[str, Any] = {}
        self.workspace_scan = False
        self.gpu_runner = True
        self._settings: dict[Path, Settings] = {}
        self._resolved: dict[Path, Path] = {}
        # Config files seen when settings were loaded, with their modification stamps: a client
        # that cannot watch files still gets new settings after a save (`config_changed`).
        self._config_stamps: dict[Path, int | None] = {}

    # --- settings ------------------------------------------------------------------------

    def set_client_settings(self, values: Any) -> None:
        """Editor settings, validated like a config file; a bad one is shown and ignored."""
        if not isinstance(values, dict):
            return
        values = values.get("safety-ls", values) if isinstance(values.get("safety-ls"), dict) else values
        self.workspace_scan = bool(values.get("workspace-scan", values.get("workspaceScan", False)))
        self.gpu_runner = values.get("gpu-runner", values.get("gpuRunner", True)) is not False
        checked = {key: value for key, value in values.items() if key not in CLIENT_ONLY_KEYS and key not in ("workspaceScan", "gpuRunner")}
        try:
            settings_from_mapping(checked)
        except ConfigError as error:
            self.report_error(f"safety-ls settings: {error}")
            return
        self.client_settings = checked
        self._settings.clear()

    @property
    def root(self) -> Path:
        return Path(self._client_root() or os.getcwd())

    def settings_for(self, path: Path | None) -> Settings:
        directory = path.parent if path is not None else self.root
        if directory not in self._settings:
            try:
                settings = load_settings(directory)
            except ConfigError as error:
                self.report_error(str(error))
                settings = Settings()
            if self.client_settings:
                overrides = settings_from_mapping(self.client_settings)
                names = {key.replace("-", "_") for key in self.client_settings}
                settings = replace(
                    settings, **{f.name: getattr(overrides, f.name) for f in dataclass_fields(Settings) if f.name in names}
                )
            self._settings[directory] = settings
            self._remember_config_files(directory)
        return self._settings[directory]

    def workspace_root(self, settings: Settings) -> Path:
        return Path(settings.root) if settings.root else self.root

    def forget_configuration(self) -> None:
        self._settings.clear()
        self._resolved.clear()
        self._config_stamps.clear()
        forget_crates()

    def _remember_config_files(self, directory: Path) -> None:
        for folder in (directory, *directory.parents):
            for name in CONFIG_NAMES:
                candidate = folder / name
                if candidate not in self._config_stamps:
                    self._config_stamps[candidate] = _stamp(candidate)

    def config_changed(self) -> bool:
        """Whether a config file that settings were read from (or looked for) changed since."""
        return any(_stamp(path) != stamp for path, stamp in self._config_stamps.items())

    # --- crates --------------------------------------------------------------------------

    def crate_of(self, document: Document) -> tuple[CrateIndex | None, Path | None]:
        if document.path is None:
            return None, None
        file = self._resolved.get(document.path)
        if file is None:  # resolving walks the path's links: once per path, not per keystroke
            file = self._resolved[document.path] = document.path.resolve()
        crate_dir = crate_dir_of(file)
        return (crate_index(crate_dir) if crate_dir is not None else None), file

    def analyse(self, document: Document, exact: bool = True) -> None:
        crate, file = self.crate_of(document)
        document.analyse(self.settings_for(document.path), crate, file, exact=exact)

    def analyse_if_stale(self, document: Document) -> None:
        if document.analysed_version != document.version or document.dirty:
            self.analyse(document)


def _stamp(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None
