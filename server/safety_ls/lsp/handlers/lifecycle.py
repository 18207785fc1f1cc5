"""initialize, initialized, shutdown: capabilities, settings from the client, config watching."""

from __future__ import annotations

import asyncio
import logging
import os

from lsprotocol import types as lsp

from safety_ls.lsp.handlers.configuration import pull_configuration
from safety_ls.lsp.handlers.diagnostics import scan_workspace
from safety_ls.lsp.language_server import SafetyLanguageServer

log = logging.getLogger(__name__)

CONFIG_GLOBS = ("**/safety-ls.toml", "**/.safety-ls.toml", "**/Cargo.toml", "**/clippy.toml", "**/.clippy.toml")


def on_initialize(server: SafetyLanguageServer, params: lsp.InitializeParams) -> None:
    server.session.set_client_settings(params.initialization_options or {})
    text_document, workspace = params.capabilities.text_document, params.capabilities.workspace
    server.push_diagnostics = text_document is None or text_document.diagnostic is None
    server.refresh_pulls = bool(workspace and workspace.diagnostics and workspace.diagnostics.refresh_support)
    if params.process_id:
        asyncio.ensure_future(_exit_with_client(params.process_id))


async def _exit_with_client(pid: int) -> None:
    """Exit when the editor that started us is gone, even if it never said goodbye."""
    while True:
        await asyncio.sleep(3)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass


async def on_initialized(server: SafetyLanguageServer, params: lsp.InitializedParams) -> None:
    workspace = server.client_capabilities.workspace
    if workspace and workspace.did_change_watched_files and workspace.did_change_watched_files.dynamic_registration:
        watchers = [lsp.FileSystemWatcher(glob_pattern=glob) for glob in CONFIG_GLOBS]
        await server.client_register_capability_async(
            lsp.RegistrationParams(
                registrations=[
                    lsp.Registration(
                        id="safety-ls-config-files",
                        method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                        register_options=lsp.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
                    )
                ]
            )
        )
    await pull_configuration(server)
    if server.session.workspace_scan:
        await scan_workspace(server)


def on_shutdown(server: SafetyLanguageServer, params: None) -> None:
    server.gpu.stop()


def register(server: SafetyLanguageServer) -> None:
    server.feature(lsp.INITIALIZE)(on_initialize)
    server.feature(lsp.INITIALIZED)(on_initialized)
    server.feature(lsp.SHUTDOWN)(on_shutdown)
