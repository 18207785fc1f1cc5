"""`safety-ls serve`: run the language server (over stdio)."""

from __future__ import annotations

import argparse

from safety_ls.cli.options import EXIT_CLEAN


def add_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default, and the only transport)")


def run(args: argparse.Namespace) -> int:
    from safety_ls.lsp.server import (
        serve,  # pygls loads only when serving: the one cli -> lsp import
    )

    serve()
    return EXIT_CLEAN
