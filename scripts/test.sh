#!/usr/bin/env bash
# The whole test suite: set up everything the tests need, then run them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh" --test
# Real Rust code from Debian packages, for the corpus and clippy differential tests.
"$ROOT/scripts/install-corpus.sh" >/dev/null
# Headless Chromium for the audit page's screenshot test.
"$ROOT/scripts/install-chromium.sh"
# Editors for the VS Code and Neovim tests; here a missing editor fails its test instead of skipping.
"$ROOT/scripts/install-editors.sh"
export SAFETY_LS_REQUIRE_EDITORS=1
"$ROOT/scripts/install-sshd.sh"  # sshd for the GPU runner's ssh backend test
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
