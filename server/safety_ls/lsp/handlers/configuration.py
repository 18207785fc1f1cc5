"""Settings that change while the server runs: the client's, and config files on disk."""

from __future__ import annotations

import logging

from lsprotocol import types as lsp

from safety_ls.lsp.language_server import SafetyLanguageServer

log = logging.getLogger(__name__)


async def pull_configuration(server: SafetyLanguageServer) -> None:
    workspace = server.client_capabilities.workspace
    if not (workspace and workspace.configuration):
        return
    try:
        values = await server.workspace_configuration_async(
            lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="safety-ls")])
        )
    except Exception as error:  # noqa: BLE001 - a client that fails this request keeps its old settings
        log.warning("workspace/configuration failed: %s", error)
        return
    if values and isinstance(values[0], dict):
        server.session.set_client_settings(values[0])


async def on_configuration_change(server: SafetyLanguageServer, params: lsp.DidChangeConfigurationParams) -> None:
    if isinstance(params.settings, dict) and params.settings:
        server.session.set_client_settings(params.settings)
    else:
        await pull_configuration(server)
    server.reanalyse_all()


def on_watched_files(server: SafetyLanguageServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    server.session.forget_configuration()
    server.reanalyse_all()


def register(server: SafetyLanguageServer) -> None:
    server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)(on_configuration_change)
    server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)(on_watched_files)
