"""The `safety-ls` command line: parse the arguments, then run the one command asked for.

Each command lives in its own module and is imported only when it runs, so
`check` never loads the language server, the templates or the audit.
Exit codes: 0 clean, 1 findings (or a failed gate), 2 error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType
from typing import Sequence

from safety_ls import __version__
from safety_ls.cli.options import EXIT_ERROR, UsageError
from safety_ls.config.loader import ConfigError

EXIT_INTERRUPTED = 130

# Command name -> (module, one-line help). The help is here so that `safety-ls --help`
# lists every command without importing any of them.
COMMANDS = {
    "check": ("safety_ls.cli.check", "report missing or weak annotations"),
    "fix": ("safety_ls.cli.fix", "insert annotation templates where they are missing"),
    "serve": ("safety_ls.cli.serve", "run the language server"),
    "audit": ("safety_ls.cli.audit", "inventory of unsafe code per crate, with CI gates"),
    "validate": ("safety_ls.cli.validate", "run the GPU program under compute-sanitizer, or import its reports"),
    "rules": ("safety_ls.cli.rules", "list the rules, or explain one"),
}


def _requested(argv: Sequence[str]) -> str | None:
    """The command named on the command line: the first argument that is not an option."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def _parser(command: str | None) -> tuple[argparse.ArgumentParser, ModuleType | None]:
    """The parser, with the arguments of `command` only (the others are never imported)."""
    parser = argparse.ArgumentParser(
        prog="safety-ls",
        description="Checks that unsafe code, dtype promotions, layout copies and numeric casts "
        "in Rust carry their written justification.",
    )
    parser.add_argument("--version", action="version", version=f"safety-ls {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = None
    for name, (module_name, summary) in COMMANDS.items():
        subparser = commands.add_parser(name, help=summary, description=summary)
        if name == command:
            chosen = importlib.import_module(module_name)
            chosen.add_arguments(subparser)
    return parser, chosen


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser, command = _parser(_requested(arguments))
    args = parser.parse_args(arguments)
    assert command is not None  # parse_args exits on a missing or unknown command
    try:
        return command.run(args)
    except (ConfigError, UsageError) as error:
        print(f"safety-ls: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as error:
        import traceback  # never exit 1 (the findings code) on a crash

        traceback.print_exc()
        print(f"safety-ls: internal error: {error!r}; please report it with the trace above", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
