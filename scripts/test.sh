#!/usr/bin/env bash
# The whole test suite: set up everything the tests need, then run them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh" --test
# Real Rust code from Debian packages, for the corpus and clippy differential tests.
"$ROOT/scripts/install-corpus.sh" >/dev/null
"$ROOT/scripts/install-sshd.sh"  # sshd for the GPU runner's ssh backend test
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
